import type { ComponentChildren } from 'preact';

/** A wide table's scrolling box: focusable, since a region that scrolls must be reachable by keyboard. */
export function ScrollRegion(props: { label: string; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard
    <section class="table-scroll" tabIndex={0} aria-label={`${props.label} (scrolls)`}>
      {props.children}
    </section>
  );
}
