/**
 * The format, size and EXIF orientation an image file declares, read without decoding it: the
 * size decides whether decoding is allowed at all (a 1 MB PNG can declare 50,000 × 50,000 pixels
 * and take 10 GB to decode), and reading the orientation here spares a decode (the image library
 * decodes the whole picture to tell it).
 */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'avif' | 'heic';

export interface ImageHeader {
  format: ImageFormat;
  /** As stored in the file, before `orientation` turns it. */
  width: number;
  height: number;
  /** EXIF orientation, 1–8 (1: as stored; 5–8 turn the picture a quarter). */
  orientation: number;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** HEIF's brands (in its `ftyp` box) that say how the pictures are coded: AV1 (AVIF) or HEVC (a phone's HEIC). */
const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEVC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx']);

/**
 * The format `bytes` start like, from their first bytes only (no image library sees a file before
 * this says what it is); undefined for anything else (GIF, SVG, TIFF, text…).
 */
export function sniffFormat(bytes: Buffer): ImageFormat | undefined {
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 12 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  if (bytes.length >= 16 && bytes.toString('latin1', 4, 8) === 'ftyp') {
    // The major brand, then (after a minor version) the compatible ones.
    const end = Math.min(bytes.length, bytes.readUInt32BE(0));
    const brands = [bytes.toString('latin1', 8, 12)];
    for (let at = 16; at + 4 <= end; at += 4) brands.push(bytes.toString('latin1', at, at + 4));
    if (brands.some((brand) => AVIF_BRANDS.has(brand))) return 'avif';
    if (brands.some((brand) => HEVC_BRANDS.has(brand))) return 'heic';
  }
  return undefined;
}

/**
 * The header of a JPEG, PNG or WebP file; undefined for other formats, or when the file ends
 * before its size or its structure is not its format's.
 */
export function readImageHeader(bytes: Buffer): ImageHeader | undefined {
  switch (sniffFormat(bytes)) {
    case 'png':
      if (bytes.length < 24 || bytes.toString('latin1', 12, 16) !== 'IHDR') return undefined;
      return sized('png', bytes.readUInt32BE(16), bytes.readUInt32BE(20), chunkOrientation(bytes, 8, 'eXIf'));
    case 'jpeg':
      return jpegHeader(bytes);
    case 'webp':
      return bytes.length >= 30 ? webpHeader(bytes) : undefined;
    default:
      return undefined;
  }
}

function sized(format: ImageFormat, width: number, height: number, orientation = 1): ImageHeader | undefined {
  return width > 0 && height > 0 ? { format, width, height, orientation } : undefined;
}

/** The Orientation tag (0x0112) of IFD0 in EXIF's TIFF data; 1 when it has none. */
function tiffOrientation(tiff: Buffer): number {
  if (tiff.length < 8) return 1;
  const order = tiff.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return 1;
  const u16 = (at: number) => (order === 'II' ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const ifd = order === 'II' ? tiff.readUInt32LE(4) : tiff.readUInt32BE(4);
  if (ifd + 2 > tiff.length) return 1;
  for (let entry = ifd + 2, end = Math.min(tiff.length, entry + u16(ifd) * 12); entry + 12 <= end; entry += 12) {
    if (u16(entry) !== 0x0112) continue;
    const value = u16(entry + 8);
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

const EXIF_PREFIX = Buffer.from('Exif\0\0', 'latin1');
const withoutExifPrefix = (data: Buffer) => (data.subarray(0, 6).equals(EXIF_PREFIX) ? data.subarray(6) : data);

/**
 * The orientation in the EXIF chunk `type` of a PNG (big-endian lengths, CRC after the data) or
 * WebP (RIFF: little-endian sizes, data padded to even) file; 1 when there is none.
 */
function chunkOrientation(bytes: Buffer, start: number, type: 'eXIf' | 'EXIF'): number {
  const png = type === 'eXIf';
  for (let at = start; at + 8 <= bytes.length; ) {
    const size = png ? bytes.readUInt32BE(at) : bytes.readUInt32LE(at + 4);
    const name = bytes.toString('latin1', png ? at + 4 : at, png ? at + 8 : at + 4);
    if (name === type) return tiffOrientation(withoutExifPrefix(bytes.subarray(at + 8, at + 8 + size)));
    at += 8 + size + (png ? 4 : size % 2);
  }
  return 1;
}

/** Start-of-frame markers (C0–CF but C4 DHT, C8 JPG, CC DAC) carry the frame's size. */
const isStartOfFrame = (marker: number) => marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

function jpegHeader(bytes: Buffer): ImageHeader | undefined {
  let orientation = 1;
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      at += 2; // markers without a length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return undefined; // end of image, or scan data before any frame
    if (isStartOfFrame(marker)) {
      if (at + 9 > bytes.length) return undefined;
      return sized('jpeg', bytes.readUInt16BE(at + 7), bytes.readUInt16BE(at + 5), orientation);
    }
    const length = bytes.readUInt16BE(at + 2);
    const data = bytes.subarray(at + 4, at + 2 + length);
    if (marker === 0xe1 && data.subarray(0, 6).equals(EXIF_PREFIX)) orientation = tiffOrientation(data.subarray(6));
    at += 2 + length;
  }
  return undefined;
}

function webpHeader(bytes: Buffer): ImageHeader | undefined {
  const chunk = bytes.toString('latin1', 12, 16);
  // Only the extended format (VP8X) carries EXIF.
  if (chunk === 'VP8X') return sized('webp', bytes.readUIntLE(24, 3) + 1, bytes.readUIntLE(27, 3) + 1, chunkOrientation(bytes, 12, 'EXIF'));
  if (chunk === 'VP8 ' && bytes[23] === 0x9d && bytes[24] === 0x01 && bytes[25] === 0x2a) {
    return sized('webp', bytes.readUInt16LE(26) & 0x3fff, bytes.readUInt16LE(28) & 0x3fff);
  }
  if (chunk === 'VP8L' && bytes[20] === 0x2f) {
    const bits = bytes.readUInt32LE(21);
    return sized('webp', (bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
  }
  return undefined;
}
