import type { ReactNode } from 'react';
import styles from './labeling-layout.module.css';

interface LabelingLayoutProps {
  /** The image controls, above the image. */
  toolbar: ReactNode;
  /** The image, or what is said instead of one. */
  stage: ReactNode;
  /** The answers and everything about the sample. */
  panel: ReactNode;
}

/**
 * The labeling and review screens: the image takes what the window has
 * left beside a fixed panel, and neither scrolls the page, so image and
 * answers share one screen from 1280x720 up; a wider window grows the image.
 */
export function LabelingLayout({ toolbar, stage, panel }: LabelingLayoutProps) {
  return (
    <main className={styles.screen}>
      <section className={styles.viewer} aria-label="Sample image">
        {toolbar}
        <div className={styles.stage}>{stage}</div>
      </section>
      <aside className={styles.panel} aria-label="Answer">
        {panel}
      </aside>
    </main>
  );
}

/** Said on the stage where an image would be. */
export function StageMessage({ children }: { children: ReactNode }) {
  return <div className={styles.message}>{children}</div>;
}
