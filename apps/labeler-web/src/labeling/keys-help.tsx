import { Collapsible } from 'radix-ui';
import { useState } from 'react';
import styles from './panel.module.css';

export interface KeyHelp {
  keys: string;
  does: string;
}

/** Keys every screen with an image shares. */
export const VIEWER_KEYS: readonly KeyHelp[] = [
  { keys: 'Wheel, + / -', does: 'zoom at the pointer / the centre' },
  { keys: '0, Shift+1', does: 'fit to screen, one-to-one' },
  { keys: 'Arrows', does: 'pan (Shift: further)' },
  { keys: 'B, C', does: 'brightness, contrast up (Shift: down)' },
  { keys: 'R', does: 'fit and reset brightness and contrast' },
  { keys: 'P', does: "show or hide every score of the model" },
];

/** Every key of the screen, folded away until asked for; the buttons show their own keys. */
export function KeysHelp({ keys }: { keys: readonly KeyHelp[] }) {
  const [open, setOpen] = useState(false);
  return (
    <Collapsible.Root open={open} onOpenChange={setOpen} className={styles.section}>
      <Collapsible.Trigger className={styles.disclosure}>{open ? 'Hide' : 'Show'} all keys</Collapsible.Trigger>
      <Collapsible.Content>
        <dl className={styles.keys}>
          {keys.map((help) => (
            <div key={help.keys}>
              <dt>
                <kbd>{help.keys}</kbd>
              </dt>
              <dd>{help.does}</dd>
            </div>
          ))}
        </dl>
      </Collapsible.Content>
    </Collapsible.Root>
  );
}
