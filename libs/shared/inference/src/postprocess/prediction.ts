/** One label's score. */
export interface LabelScore {
  label: string;
  score: number;
}

/** An axis-aligned box in pixels of the original image. */
export interface DetectionBox {
  label: string;
  score: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** What the model answered for one image, in the station's terms. */
export interface Prediction {
  verdict: string;
  /** Highest first: the top-k labels, the anomaly score, or the best box per label. */
  scores: LabelScore[];
  boxes: DetectionBox[];
  /** Anomaly models: the raw score, and that score divided by the threshold (1 = at the threshold). */
  anomaly?: { score: number; normalized: number };
}
