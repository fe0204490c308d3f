import { percent } from '../labeling/model-guess';
import type { Viewport } from '../viewer/viewport';
import type { BoxEditorState, EditableBox } from './box-editor';
import { HANDLES, type Handle, type Rect } from './box-geometry';
import styles from './box-layer.module.css';
import { classColor } from './class-colors';
import type { BoxPreview } from './use-box-editor';

interface BoxLayerProps {
  state: BoxEditorState;
  preview: BoxPreview | null;
  classes: readonly string[];
  view: Viewport;
}

// Sizes on screen, whatever the zoom: the layer is scaled with the image, so each is divided by the scale.
const STROKE = 2;
const HANDLE = 10;
const LABEL_FONT = 12;

/**
 * The boxes over the image, in image pixels. Hidden from screen readers:
 * the panel lists the same boxes, and every edit has a key.
 */
export function BoxLayer({ state, preview, classes, view }: BoxLayerProps) {
  const px = (screenPixels: number) => screenPixels / view.scale;
  const shown = state.boxes.map((box) => (preview?.id === box.id ? { ...box, ...preview.rect, modelScore: undefined } : box));
  const selected = shown.find((box) => box.id === state.selectedId);
  return (
    <svg className={styles.layer} viewBox={`0 0 ${state.image.width} ${state.image.height}`} aria-hidden="true">
      {shown.map((box, index) => (
        <BoxShape key={box.id} box={box} number={index + 1} color={classColor(box.className, classes)} selected={box.id === state.selectedId} px={px} />
      ))}
      {preview?.id === null && <Outline rect={preview.rect} color={classColor(state.drawClass, classes)} dashed px={px} />}
      {selected && HANDLES.map((handle) => <HandleShape key={handle} handle={handle} rect={selected} px={px} />)}
    </svg>
  );
}

interface BoxShapeProps {
  box: EditableBox;
  number: number;
  color: string;
  selected: boolean;
  px: (screenPixels: number) => number;
}

/** One box: its outline (dashed while it is the model's, untouched), a wide invisible edge to grab, and its tag. */
function BoxShape({ box, number, color, selected, px }: BoxShapeProps) {
  const tag = `${number} ${box.className}${box.modelScore === undefined ? '' : ` ${percent(box.modelScore)}`}`;
  const tagHeight = px(LABEL_FONT + 6);
  // The tag sits above the box, or inside it when the box touches the image's top.
  const tagY = box.y >= tagHeight ? box.y - tagHeight : box.y;
  return (
    <g data-box-id={box.id} data-selected={selected ? true : undefined}>
      <Outline rect={box} color={color} dashed={box.modelScore !== undefined} px={px} bold={selected} />
      <rect className={selected ? styles.grabInside : styles.grabEdge} x={box.x} y={box.y} width={box.width} height={box.height} strokeWidth={px(12)} />
      <rect className={styles.tagBackground} x={box.x} y={tagY} width={px(tag.length * 7 + 8)} height={tagHeight} />
      <text className={styles.tag} x={box.x + px(4)} y={tagY + px(LABEL_FONT + 1)} fontSize={px(LABEL_FONT)} fill={color}>
        {tag}
      </text>
    </g>
  );
}

function Outline({ rect, color, dashed, px, bold = false }: { rect: Rect; color: string; dashed: boolean; px: (n: number) => number; bold?: boolean }) {
  const width = px(bold ? STROKE + 1 : STROKE);
  const dash = dashed ? `${px(6)} ${px(4)}` : undefined;
  return (
    <>
      <rect className={styles.edge} x={rect.x} y={rect.y} width={rect.width} height={rect.height} strokeWidth={width + px(2)} />
      <rect className={styles.outline} x={rect.x} y={rect.y} width={rect.width} height={rect.height} stroke={color} strokeWidth={width} strokeDasharray={dash} />
    </>
  );
}

function HandleShape({ handle, rect, px }: { handle: Handle; rect: Rect; px: (n: number) => number }) {
  const x = handle.includes('w') ? rect.x : handle.includes('e') ? rect.x + rect.width : rect.x + rect.width / 2;
  const y = handle.startsWith('n') ? rect.y : handle.startsWith('s') ? rect.y + rect.height : rect.y + rect.height / 2;
  const size = px(HANDLE);
  return (
    <rect
      data-handle={handle}
      className={`${styles.handle} ${styles[handle]}`}
      x={x - size / 2}
      y={y - size / 2}
      width={size}
      height={size}
      strokeWidth={px(1.5)}
    />
  );
}
