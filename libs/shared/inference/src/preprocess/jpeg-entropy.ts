import { DamagedImageError } from './invalid-image.error';

/** A canonical Huffman code (ITU T.81 Annex C), with a lookahead table for the short codes. */
export interface HuffmanTable {
  /** Indexed by the next LOOKAHEAD bits: (code length << 8) | symbol, or 0 for longer codes. */
  lookup: Int32Array;
  /** Largest code of each length 1-16, -1 when there is none (T.81 F.2.2.3 MAXCODE). */
  maxCode: Int32Array;
  /** symbols[code + valueOffset[length]] is the symbol of a code of that length. */
  valueOffset: Int32Array;
  symbols: Uint8Array;
}

const LOOKAHEAD = 10;
/** A few milliseconds of reading on a 2-core machine, even for noise-like data. */
const BLOCKS_PER_SLICE = 8192;

/** The table for a DHT's 16 code counts and its symbols, or undefined when the counts overflow the code space. */
export function huffmanTable(counts: Uint8Array, symbols: Uint8Array): HuffmanTable | undefined {
  const table = { lookup: new Int32Array(1 << LOOKAHEAD), maxCode: new Int32Array(17).fill(-1), valueOffset: new Int32Array(17), symbols };
  let code = 0;
  let index = 0;
  for (let length = 1; length <= 16; length++) {
    table.valueOffset[length] = index - code;
    for (let i = 0; i < counts[length - 1]!; i++, code++, index++) {
      if (length <= LOOKAHEAD) {
        const first = code << (LOOKAHEAD - length);
        table.lookup.fill((length << 8) | symbols[index]!, first, first + (1 << (LOOKAHEAD - length)));
      }
    }
    if (counts[length - 1]! > 0) table.maxCode[length] = code - 1;
    if (code > 1 << length) return undefined;
    code <<= 1;
  }
  return table;
}

/** One component's share of an MCU: how many blocks, coded with which tables. */
export interface ScanBlocks {
  blocks: number;
  dc: HuffmanTable;
  ac: HuffmanTable;
}

export interface HuffmanScan {
  /** Where the entropy-coded data starts and where the marker after it starts. */
  start: number;
  end: number;
  mcus: number;
  mcu: ScanBlocks[];
  restartInterval: number;
  /** Sample precision: 8 or 12 bits; it bounds the magnitude categories. */
  precision: number;
  /** "640x480", for messages. */
  size: string;
}

/**
 * Reads the Huffman codes of one sequential scan without computing pixels,
 * and checks that the data holds exactly the blocks the frame header
 * promises: no fewer (cut short), no more (a header that claims fewer
 * pixels), only valid codes, no run past a block's 64 coefficients, and
 * restart markers in sequence. libjpeg fills a short scan with grey and
 * stops reading at the last block, so it reports neither end by itself.
 */
export async function checkHuffmanScan(bytes: Buffer, scan: HuffmanScan): Promise<void> {
  const blocksPerMcu = scan.mcu.reduce((sum, part) => sum + part.blocks, 0);
  const promised = scan.mcus * blocksPerMcu;
  const problem = (what: string, block: number) =>
    new DamagedImageError(`the JPEG's scan data has ${what} in block ${block + 1} of ${promised} (corrupt data)`);
  const tooLong = () =>
    new DamagedImageError(`the JPEG's scan data goes on past the ${promised} blocks its ${scan.size} header promises (corrupt data, or a header that understates the size)`);
  // T.81 F.1.2: DC differences need up to precision + 3 bits, AC coefficients precision + 2.
  const limits = { dc: scan.precision + 3, ac: scan.precision + 2 };
  const interval = scan.restartInterval > 0 ? scan.restartInterval : scan.mcus;
  const data = new Uint8Array(scan.end - scan.start + 4);
  let at = scan.start;
  for (let first = 0, sequence = 0; first < scan.mcus; first += interval, sequence++) {
    if (first > 0) at = restartMarker(bytes, at, (sequence - 1) % 8);
    const { length, end } = unstuff(bytes, at, data);
    let position = 0;
    for (let mcu = first; mcu < Math.min(first + interval, scan.mcus); mcu++) {
      let block = mcu * blocksPerMcu;
      for (const part of scan.mcu) {
        for (let i = 0; i < part.blocks; i++, block++) {
          position = readBlock(data, position, part, limits, length * 8);
          if (position === RAN_OUT || position > length * 8) {
            throw new DamagedImageError(
              `the JPEG's scan data ends after ${block} of the ${promised} blocks its ${scan.size} header promises (cut short, perhaps with an end marker added, or corrupt)`,
            );
          }
          if (position < 0) throw problem(PROBLEMS[-position - 1]!, block);
          // A large image is read in slices, so that other requests' I/O and batch timers are not held up.
          if (block % BLOCKS_PER_SLICE === 0 && block > 0) await new Promise((resolve) => setImmediate(resolve));
        }
      }
    }
    // Only the 1-7 padding bits of the last byte may be left (T.81 F.1.2.3).
    if (length * 8 - position >= 8) throw tooLong();
    at = end;
  }
  if (at !== scan.end) throw tooLong();
}

/** What readBlock answers when it cannot finish a block: PROBLEMS[-answer - 1] says it in words. */
const INVALID_CODE = -1;
const RUN_PAST_BLOCK = -2;
const VALUE_TOO_LARGE = -3;
const RAN_OUT = -4;
const PROBLEMS = ['an invalid Huffman code', 'a run of zeros past the 64 coefficients of a block', 'a value larger than the sample precision allows'];

/**
 * The entropy-coded bytes from `from` to the next marker, with the stuffed
 * zero after each 0xFF removed, into `into` (followed by zeros, so that
 * reading a few bytes past the end is safe). Returns how many bytes and
 * where the marker is.
 */
function unstuff(bytes: Buffer, from: number, into: Uint8Array): { length: number; end: number } {
  let length = 0;
  let at = from;
  while (at < bytes.length) {
    const byte = bytes[at]!;
    if (byte === 0xff) {
      if (bytes[at + 1] !== 0x00) break;
      at++;
    }
    into[length++] = byte;
    at++;
  }
  into.fill(0, length, length + 4);
  return { length, end: at };
}

function restartMarker(bytes: Buffer, from: number, sequence: number): number {
  let at = from;
  // Fill bytes (0xFF) may precede a marker (T.81 B.1.1.2).
  while (bytes[at] === 0xff && bytes[at + 1] === 0xff) at++;
  if (bytes[at] !== 0xff || bytes[at + 1] !== 0xd0 + sequence) {
    throw new DamagedImageError(`the JPEG's restart marker ${sequence} is missing or out of order at byte ${at}`);
  }
  return at + 2;
}

/**
 * Reads one block's codes from bit `position` of unstuffed `data`; returns
 * the bit position after it, or one of the negative answers above. The values
 * themselves are skipped: only their lengths matter here. What looks wrong
 * after the data's last bit is the data running out, not corrupt data.
 */
function readBlock(data: Uint8Array, position: number, part: ScanBlocks, limits: { dc: number; ac: number }, end: number): number {
  let at = position;
  let table = part.dc;
  for (let k = 0; k < 64; k++) {
    const byte = at >>> 3;
    const word = ((data[byte]! << 24) | (data[byte + 1]! << 16) | (data[byte + 2]! << 8) | data[byte + 3]!) << (at & 7);
    let symbol = -1;
    const entry = table.lookup[word >>> (32 - LOOKAHEAD)]!;
    if (entry !== 0) {
      at += entry >> 8;
      symbol = entry & 0xff;
    } else {
      for (let length = LOOKAHEAD + 1; length <= 16; length++) {
        const code = word >>> (32 - length);
        if (code <= table.maxCode[length]!) {
          at += length;
          symbol = table.symbols[code + table.valueOffset[length]!]!;
          break;
        }
      }
      if (symbol < 0) return at > end ? RAN_OUT : INVALID_CODE;
    }
    if (k === 0) {
      if (symbol > limits.dc) return at > end ? RAN_OUT : VALUE_TOO_LARGE;
      at += symbol;
      table = part.ac;
      continue;
    }
    const size = symbol & 15;
    if (size === 0) {
      if (symbol >> 4 !== 15) break;
      // ZRL: sixteen zeros.
      k += 15;
      if (k > 63) return at > end ? RAN_OUT : RUN_PAST_BLOCK;
      continue;
    }
    k += symbol >> 4;
    if (k > 63) return at > end ? RAN_OUT : RUN_PAST_BLOCK;
    if (size > limits.ac) return at > end ? RAN_OUT : VALUE_TOO_LARGE;
    at += size;
  }
  return at;
}
