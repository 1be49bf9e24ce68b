import type { ComponentChildren } from 'preact';
import { navigate } from '../router.js';

/** An ordinary link (open in a new tab works) that moves within the console without a reload. */
export function Link(props: { href: string; children: ComponentChildren; class?: string }) {
  const onClick = (e: MouseEvent) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(props.href);
  };
  return (
    <a href={props.href} class={props.class} onClick={onClick}>
      {props.children}
    </a>
  );
}
