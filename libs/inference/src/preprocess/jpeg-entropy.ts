import { DamagedImageError } from './invalid-image.error';

/** A canonical Huffman code (ITU T.81 Annex C), with a 10-bit lookahead table for the short codes. */
export interface HuffmanTable {
  /** Indexed by the next 10 bits: (code length << 8) | symbol, or 0 for codes longer than 9 bits. */
  lookup: Int32Array;
  /** Largest code of each length 1-16, -1 when there is none (T.81 F.2.2.3 MAXCODE). */
  maxCode: Int32Array;
  /** symbols[code + valueOffset[length]] is the symbol of a code of that length. */
  valueOffset: Int32Array;
  symbols: Uint8Array;
}

const LOOKAHEAD = 10;

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
export function checkHuffmanScan(bytes: Buffer, scan: HuffmanScan): void {
  new ScanReader(bytes, scan).read();
}

class ScanReader {
  private position: number;
  private accumulator = 0;
  private bits = 0;
  /** Zero bits fed after the data ran out; reading into them means the scan is short. */
  private phantom = 0;
  private atMarker = false;
  private blocksRead = 0;
  private readonly blocksPromised: number;
  private readonly maxDcCategory: number;
  private readonly maxAcCategory: number;

  constructor(
    private readonly bytes: Buffer,
    private readonly scan: HuffmanScan,
  ) {
    this.position = scan.start;
    this.blocksPromised = scan.mcus * scan.mcu.reduce((sum, part) => sum + part.blocks, 0);
    // T.81 F.1.2: DC differences need up to precision + 3 bits, AC coefficients precision + 2.
    this.maxDcCategory = scan.precision + 3;
    this.maxAcCategory = scan.precision + 2;
  }

  read(): void {
    const { mcus, mcu, restartInterval } = this.scan;
    for (let index = 0; index < mcus; index++) {
      if (restartInterval > 0 && index > 0 && index % restartInterval === 0) this.restart(index / restartInterval - 1);
      for (const part of mcu) {
        for (let block = 0; block < part.blocks; block++) this.readBlock(part);
      }
    }
    this.expectEnd();
    if (this.position !== this.scan.end) throw this.tooLong();
  }

  private readBlock(part: ScanBlocks): void {
    const dc = this.decode(part.dc);
    if (dc > this.maxDcCategory) throw this.corrupt('a DC difference larger than the sample precision allows');
    this.skip(dc);
    for (let k = 1; k < 64; k++) {
      const symbol = this.decode(part.ac);
      const run = symbol >> 4;
      const category = symbol & 15;
      if (category === 0) {
        if (run !== 15) break;
        // ZRL: sixteen zeros.
        k += 15;
        if (k > 63) throw this.corrupt('a run of zeros past the 64 coefficients of a block');
        continue;
      }
      k += run;
      if (k > 63) throw this.corrupt('a run of zeros past the 64 coefficients of a block');
      if (category > this.maxAcCategory) throw this.corrupt('a coefficient larger than the sample precision allows');
      this.skip(category);
    }
    if (this.bits < this.phantom) throw this.tooShort();
    this.blocksRead++;
  }

  private decode(table: HuffmanTable): number {
    if (this.bits < 16) this.fill();
    const entry = table.lookup[(this.accumulator >>> (this.bits - LOOKAHEAD)) & ((1 << LOOKAHEAD) - 1)]!;
    if (entry !== 0) {
      this.bits -= entry >> 8;
      return entry & 0xff;
    }
    for (let length = LOOKAHEAD + 1; length <= 16; length++) {
      const code = (this.accumulator >>> (this.bits - length)) & ((1 << length) - 1);
      if (code <= table.maxCode[length]!) {
        this.bits -= length;
        return table.symbols[code + table.valueOffset[length]!]!;
      }
    }
    throw this.corrupt('an invalid Huffman code');
  }

  private skip(count: number): void {
    if (this.bits < count) this.fill();
    this.bits -= count;
  }

  /** Keeps at least 25 bits buffered, unstuffing 0xFF00; stops at a marker and feeds zeros from there. */
  private fill(): void {
    const { bytes } = this;
    while (this.bits <= 24) {
      let byte = 0;
      if (!this.atMarker && this.position < bytes.length) {
        byte = bytes[this.position]!;
        if (byte !== 0xff) this.position++;
        else if (bytes[this.position + 1] === 0x00) this.position += 2;
        else this.atMarker = true;
      } else {
        this.atMarker = true;
      }
      if (this.atMarker) {
        byte = 0;
        this.phantom += 8;
      }
      this.accumulator = ((this.accumulator << 8) | byte) >>> 0;
      this.bits += 8;
    }
  }

  /** After an interval or the scan: at most the 1-7 padding bits of its last byte are left (T.81 F.1.2.3). */
  private expectEnd(): void {
    this.fill();
    if (!this.atMarker || this.bits - this.phantom >= 8) throw this.tooLong();
  }

  private restart(sequence: number): void {
    this.expectEnd();
    const { bytes } = this;
    let at = this.position;
    while (bytes[at + 1] === 0xff) at++;
    const expected = 0xd0 + (sequence % 8);
    if (bytes[at] !== 0xff || bytes[at + 1] !== expected) {
      throw new DamagedImageError(`the JPEG's restart marker ${sequence % 8} is missing or out of order at byte ${at}`);
    }
    this.position = at + 2;
    this.accumulator = 0;
    this.bits = 0;
    this.phantom = 0;
    this.atMarker = false;
  }

  private corrupt(what: string): DamagedImageError {
    return new DamagedImageError(`the JPEG's scan data has ${what} in block ${this.blocksRead + 1} of ${this.blocksPromised} (corrupt data)`);
  }

  private tooShort(): DamagedImageError {
    return new DamagedImageError(
      `the JPEG's scan data ends after ${this.blocksRead} of the ${this.blocksPromised} blocks its ${this.scan.size} header promises (cut short, perhaps with an end marker added?)`,
    );
  }

  private tooLong(): DamagedImageError {
    return new DamagedImageError(
      `the JPEG's scan data holds more than the ${this.blocksPromised} blocks its ${this.scan.size} header promises (a header that understates the size?)`,
    );
  }
}
