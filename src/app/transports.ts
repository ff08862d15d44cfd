/**
 * The transports `TRANSPORT_URL` may name. Each package registers its schemes with the toolkit;
 * a broker's client loads only when a URL of its scheme is opened.
 */
import '@syncopate/transport-nats/register';
import '@syncopate/transport-postgres/register';
import '@syncopate/transport-rabbitmq/register';
import '@syncopate/transport-redis/register';
import '@syncopate/transport-sqlite/register';
