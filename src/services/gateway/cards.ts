import { randomBytes } from 'node:crypto';

export type DeclineCode =
  | 'card_declined'
  | 'insufficient_funds'
  | 'processing_error'
  | 'incorrect_number'
  | 'expired_card'
  | 'invalid_cvc';

/** Stripe's test cards that do not approve, and what they answer. */
const DECLINING_CARDS: Record<string, DeclineCode> = {
  '4000000000000002': 'card_declined',
  '4000000000009995': 'insufficient_funds',
  '4000000000000119': 'processing_error',
};

export const DECLINE_MESSAGES: Record<DeclineCode, string> = {
  card_declined: 'Your card was declined.',
  insufficient_funds: 'Your card has insufficient funds.',
  processing_error: 'An error occurred while processing your card. Try again in a little bit.',
  incorrect_number: 'Your card number is incorrect.',
  expired_card: 'Your card has expired.',
  invalid_cvc: "Your card's security code is invalid.",
};

export interface CardInput {
  number: string;
  exp_month: number;
  exp_year: number;
  cvc: string;
}

export function luhnValid(number: string): boolean {
  let sum = 0;
  for (let i = 0; i < number.length; i++) {
    let digit = Number(number[number.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

export function brandOf(number: string): string {
  if (/^4/.test(number)) return 'visa';
  if (/^(5[1-5]|2(2[2-9]|[3-6]\d|7[01]|720))/.test(number)) return 'mastercard';
  if (/^3[47]/.test(number)) return 'amex';
  if (/^(6011|65)/.test(number)) return 'discover';
  return 'unknown';
}

/** Whether the card is past the last day of its expiry month. */
export function isExpired(card: Pick<CardInput, 'exp_month' | 'exp_year'>, now = new Date()): boolean {
  const firstDayAfter = Date.UTC(card.exp_year, card.exp_month, 1);
  return now.getTime() >= firstDayAfter;
}

/** Why the card cannot be charged, or undefined when the gateway approves it. */
export function assessCard(card: CardInput, now = new Date()): DeclineCode | undefined {
  if (!luhnValid(card.number)) return 'incorrect_number';
  if (isExpired(card, now)) return 'expired_card';
  const cvcLength = brandOf(card.number) === 'amex' ? 4 : 3;
  if (card.cvc.length !== cvcLength) return 'invalid_cvc';
  return DECLINING_CARDS[card.number];
}

/**
 * A charge's card token: random, so it carries no information about the number (a token derived
 * from the number, even keyed, gives the number back to whoever brute-forces the middle digits).
 */
export function newCardToken(): string {
  return `tok_${randomBytes(18).toString('base64url')}`;
}
