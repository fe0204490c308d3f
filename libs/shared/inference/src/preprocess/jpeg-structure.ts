import { DamagedImageError } from './invalid-image.error';
import { checkHuffmanScan, huffmanTable, type HuffmanTable, type ScanBlocks } from './jpeg-entropy';

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const DHT = 0xc4;
const DQT = 0xdb;
const DRI = 0xdd;
const TEM = 0x01;
/** Baseline and extended sequential Huffman: the frames whose scans checkHuffmanScan reads. */
const SEQUENTIAL_HUFFMAN = new Set([0xc0, 0xc1]);
const PROGRESSIVE_HUFFMAN = 0xc2;

const isStartOfFrame = (marker: number) => marker >= 0xc0 && marker <= 0xcf && marker !== DHT && marker !== 0xc8 && marker !== 0xcc;
const isRestart = (marker: number) => marker >= 0xd0 && marker <= 0xd7;
const hex = (marker: number) => `0xFF${marker.toString(16).toUpperCase().padStart(2, '0')}`;

interface FrameComponent {
  id: number;
  h: number;
  v: number;
}

interface Frame {
  marker: number;
  precision: number;
  width: number;
  height: number;
  components: FrameComponent[];
}

interface ScanHeader {
  components: { index: number; dc: number; ac: number }[];
  ss: number;
  se: number;
  ah: number;
  al: number;
}

/**
 * Walks a JPEG's markers from SOI to EOI (ITU T.81 Annex B) and refuses one
 * that is cut short, whose segments run past the file, whose tables are not
 * valid codes, whose scans do not cover the frame, or that has data after
 * its end marker other than padding. Sequential Huffman scans are read code
 * by code (checkHuffmanScan); a progressive image must bring every
 * coefficient to full precision. What the codes mean is left to libjpeg.
 */
export async function checkJpegStructure(bytes: Buffer): Promise<void> {
  const walk = new JpegWalk(bytes);
  let position = 2;
  for (;;) {
    const at = markerAt(bytes, position);
    const marker = bytes[at + 1]!;
    if (marker === EOI) {
      walk.finish();
      checkTrailer(bytes, at + 2);
      return;
    }
    if (marker === SOI || isRestart(marker) || marker === 0x00) throw new DamagedImageError(`the JPEG has a stray ${hex(marker)} marker at byte ${at}`);
    if (marker === TEM) {
      position = at + 2;
      continue;
    }
    if (at + 4 > bytes.length) throw endsEarly();
    const length = bytes.readUInt16BE(at + 2);
    const end = at + 2 + length;
    if (length < 2 || end > bytes.length) throw new DamagedImageError(`the JPEG's ${hex(marker)} segment at byte ${at} runs past the end of the file (cut short?)`);
    const body = bytes.subarray(at + 4, end);
    position = marker === SOS ? await walk.scan(body, end) : end;
    if (isStartOfFrame(marker)) walk.frame(marker, body);
    else if (marker === DHT) walk.huffmanTables(body);
    else if (marker === DQT) checkQuantizationTables(body);
    else if (marker === DRI) walk.restartInterval(body);
  }
}

/** Where the marker at or after `position` starts; fill bytes (0xFF) may precede it (T.81 B.1.1.2). */
function markerAt(bytes: Buffer, position: number): number {
  if (position >= bytes.length) throw endsEarly();
  if (bytes[position] !== 0xff) throw new DamagedImageError(`the JPEG has data where a marker belongs, at byte ${position}`);
  let at = position;
  while (bytes[at + 1] === 0xff) at++;
  if (at + 1 >= bytes.length) throw endsEarly();
  return at;
}

function endsEarly(): DamagedImageError {
  return new DamagedImageError('the JPEG ends before its end-of-image marker (cut short?)');
}

/** After EOI only padding: zero or 0xFF bytes that some writers add to fill a block. */
function checkTrailer(bytes: Buffer, from: number): void {
  for (let i = from; i < bytes.length; i++) {
    if (bytes[i] !== 0x00 && bytes[i] !== 0xff) {
      throw new DamagedImageError(`the JPEG has ${bytes.length - from} bytes of data after its end-of-image marker`);
    }
  }
}

function checkQuantizationTables(body: Buffer): void {
  let at = 0;
  while (at < body.length) {
    const precision = body[at]! >> 4;
    const entryBytes = precision === 0 ? 1 : 2;
    if (precision > 1 || (body[at]! & 15) > 3 || at + 1 + 64 * entryBytes > body.length) throw invalidSegment('quantization table');
    for (let i = 0; i < 64; i++) {
      const value = entryBytes === 1 ? body[at + 1 + i]! : body.readUInt16BE(at + 1 + 2 * i);
      if (value === 0) throw invalidSegment('quantization table');
    }
    at += 1 + 64 * entryBytes;
  }
}

function invalidSegment(what: string): DamagedImageError {
  return new DamagedImageError(`the JPEG's ${what} segment is not valid`);
}

class JpegWalk {
  private header: Frame | undefined;
  private readonly tables = new Map<number, HuffmanTable>();
  private interval = 0;
  private scans = 0;
  /** Sequential: how many scans carried each component. Progressive: the lowest bit sent of each coefficient, -1 for none yet. */
  private readonly scanned: number[] = [];
  private readonly precisionSent: Int8Array[] = [];

  constructor(private readonly bytes: Buffer) {}

  frame(marker: number, body: Buffer): void {
    if (this.header) throw new DamagedImageError('the JPEG has a second frame header');
    const count = body[5] ?? 0;
    if (body.length < 6 || count === 0 || body.length !== 6 + 3 * count) throw invalidSegment('frame header');
    const components = Array.from({ length: count }, (_, i) => ({ id: body[6 + 3 * i]!, h: body[7 + 3 * i]! >> 4, v: body[7 + 3 * i]! & 15 }));
    if (components.some(({ h, v }) => h < 1 || h > 4 || v < 1 || v > 4)) throw invalidSegment('frame header');
    const width = body.readUInt16BE(3);
    const height = body.readUInt16BE(1);
    if (width === 0 || height === 0) throw new DamagedImageError(`the JPEG's frame header gives a size of ${width}x${height}`);
    this.header = { marker, precision: body[0]!, width, height, components };
    this.scanned.push(...components.map(() => 0));
    this.precisionSent.push(...components.map(() => new Int8Array(64).fill(-1)));
  }

  huffmanTables(body: Buffer): void {
    let at = 0;
    while (at < body.length) {
      const kind = body[at]!;
      if (at + 17 > body.length || kind >> 4 > 1 || (kind & 15) > 3) throw invalidSegment('Huffman table');
      const counts = body.subarray(at + 1, at + 17);
      const total = counts.reduce((sum, count) => sum + count, 0);
      const symbols = body.subarray(at + 17, at + 17 + total);
      const table = total <= 256 && symbols.length === total ? huffmanTable(counts, symbols) : undefined;
      if (!table) throw invalidSegment('Huffman table');
      this.tables.set(kind, table);
      at += 17 + total;
    }
  }

  restartInterval(body: Buffer): void {
    if (body.length !== 2) throw invalidSegment('restart interval');
    this.interval = body.readUInt16BE(0);
  }

  /** Checks a scan header and its data; returns where the marker after the data starts. */
  async scan(body: Buffer, dataStart: number): Promise<number> {
    const frame = this.header;
    if (!frame) throw new DamagedImageError('the JPEG has scan data before its frame header');
    const header = scanHeader(body, frame);
    const dataEnd = scanDataEnd(this.bytes, dataStart);
    this.scans++;
    if (frame.marker === PROGRESSIVE_HUFFMAN) this.progress(header);
    else {
      for (const { index } of header.components) this.scanned[index]!++;
      if (header.ss !== 0 || header.se !== 63 || header.ah !== 0 || header.al !== 0) throw invalidSegment('scan header');
    }
    if (SEQUENTIAL_HUFFMAN.has(frame.marker) && frame.precision === 8) {
      await checkHuffmanScan(this.bytes, { start: dataStart, end: dataEnd, ...this.blocks(frame, header), restartInterval: this.interval, precision: 8, size: `${frame.width}x${frame.height}` });
    }
    return dataEnd;
  }

  finish(): void {
    if (this.scans === 0) throw new DamagedImageError('the JPEG has no scan data');
    const frame = this.header!;
    if (frame.marker === PROGRESSIVE_HUFFMAN) {
      if (this.precisionSent.some((coefficients) => coefficients.some((bit) => bit !== 0))) {
        throw new DamagedImageError(`the progressive JPEG ends after ${this.scans} scans, before every coefficient is complete (cut short, perhaps with an end marker added?)`);
      }
    } else if (this.scanned.some((count) => count !== 1)) {
      throw new DamagedImageError('the JPEG\'s scans do not carry each colour component exactly once (cut short, perhaps with an end marker added?)');
    }
  }

  /** Spectral selection and successive approximation must refine each coefficient in order (T.81 G.1.1.1). */
  private progress({ components, ss, se, ah, al }: ScanHeader): void {
    if (se > 63 || ss > se || (ss === 0 && se !== 0) || (ss > 0 && components.length !== 1) || al > 13 || (ah !== 0 && al !== ah - 1)) {
      throw invalidSegment('progressive scan header');
    }
    for (const { index } of components) {
      const sent = this.precisionSent[index]!;
      for (let k = ss; k <= se; k++) {
        if ((ah === 0 && sent[k] !== -1) || (ah !== 0 && sent[k] !== ah)) throw invalidSegment('progressive scan order');
        sent[k] = al;
      }
    }
  }

  /** The MCUs of a scan and the blocks in each (T.81 A.2). */
  private blocks(frame: Frame, header: ScanHeader): { mcus: number; mcu: ScanBlocks[] } {
    const hMax = Math.max(...frame.components.map((component) => component.h));
    const vMax = Math.max(...frame.components.map((component) => component.v));
    const tables = header.components.map(({ index, dc, ac }) => {
      const dcTable = this.tables.get(dc);
      const acTable = this.tables.get(0x10 | ac);
      if (!dcTable || !acTable) throw new DamagedImageError('the JPEG\'s scan uses a Huffman table it never defines');
      return { component: frame.components[index]!, dc: dcTable, ac: acTable };
    });
    if (tables.length === 1) {
      const { component, dc, ac } = tables[0]!;
      const width = Math.ceil(Math.ceil((frame.width * component.h) / hMax) / 8);
      const height = Math.ceil(Math.ceil((frame.height * component.v) / vMax) / 8);
      return { mcus: width * height, mcu: [{ blocks: 1, dc, ac }] };
    }
    return {
      mcus: Math.ceil(frame.width / (8 * hMax)) * Math.ceil(frame.height / (8 * vMax)),
      mcu: tables.map(({ component, dc, ac }) => ({ blocks: component.h * component.v, dc, ac })),
    };
  }
}

function scanHeader(body: Buffer, frame: Frame): ScanHeader {
  const count = body[0] ?? 0;
  if (count < 1 || count > 4 || body.length !== 4 + 2 * count) throw invalidSegment('scan header');
  const components = Array.from({ length: count }, (_, i) => {
    const index = frame.components.findIndex((component) => component.id === body[1 + 2 * i]);
    const tables = body[2 + 2 * i]!;
    if (index < 0 || tables >> 4 > 3 || (tables & 15) > 3) throw invalidSegment('scan header');
    return { index, dc: tables >> 4, ac: tables & 15 };
  });
  const approximation = body[3 + 2 * count]!;
  return { components, ss: body[1 + 2 * count]!, se: body[2 + 2 * count]!, ah: approximation >> 4, al: approximation & 15 };
}

/** The entropy-coded data runs to the first marker other than a restart marker; 0xFF00 is a stuffed 0xFF. */
function scanDataEnd(bytes: Buffer, from: number): number {
  let at = bytes.indexOf(0xff, from);
  while (at >= 0 && at + 1 < bytes.length) {
    const next = bytes[at + 1]!;
    if (next !== 0x00 && !isRestart(next)) return at;
    at = bytes.indexOf(0xff, at + 2);
  }
  throw new DamagedImageError('the JPEG ends inside its scan data, with no end-of-image marker (cut short?)');
}
