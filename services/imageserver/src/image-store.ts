import type { ReadStream } from 'node:fs';
import { access, constants, mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { OutputFormat, Variant, VariantName } from './variants.ts';

/** What `GET /images/:id` answers, kept as meta.json beside the variants. */
export interface ImageRecord {
  id: string;
  ownerId: string;
  createdAt: string;
  /** Of the upload, upright. */
  width: number;
  height: number;
  /** Each variant's size, and its files' sizes in bytes by format. */
  variants: Record<VariantName, StoredVariant>;
}

export interface StoredVariant {
  width: number;
  height: number;
  files: Partial<Record<OutputFormat, number>>;
}

/** Images stored before AVIF variants have one WebP file a variant, its size as `bytes`. */
function withFiles(record: ImageRecord): ImageRecord {
  for (const variant of Object.values(record.variants) as (StoredVariant & { bytes?: number })[]) {
    if (variant.files === undefined) variant.files = { webp: variant.bytes! };
    delete variant.bytes;
  }
  return record;
}

const META = 'meta.json';
const INCOMING = '.incoming';
const TRASH = '.trash';

async function writeDurably(path: string, bytes: Buffer | string): Promise<void> {
  const file = await open(path, 'wx');
  try {
    await file.writeFile(bytes);
    await file.sync();
  } finally {
    await file.close();
  }
}

async function syncDirectory(path: string): Promise<void> {
  const dir = await open(path, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/**
 * Images on a volume, one directory each: `<root>/<last two characters of the id>/<id>/`
 * (`meta.json`, `large.webp`, `large.avif`, …). An image appears whole or not at all: it is written under
 * `.incoming/`, synced, then renamed into place; a delete renames it out before removing it.
 */
export class ImageStore {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  /** Creates the directories, and removes what a crash left half-written or half-deleted. Returns how many it removed. */
  async open(): Promise<number> {
    let removed = 0;
    for (const dir of [INCOMING, TRASH]) {
      const path = join(this.root, dir);
      await mkdir(path, { recursive: true });
      for (const entry of await readdir(path)) {
        await rm(join(path, entry), { recursive: true, force: true });
        removed++;
      }
    }
    return removed;
  }

  /** Resolves when the volume can be written (for /readyz). */
  async checkWritable(): Promise<void> {
    await access(join(this.root, INCOMING), constants.W_OK);
  }

  private directory(id: string): string {
    return join(this.root, id.slice(-2), id);
  }

  async save(record: ImageRecord, variants: Record<VariantName, Pick<Variant, 'files'>>): Promise<void> {
    const incoming = join(this.root, INCOMING, record.id);
    await mkdir(incoming);
    try {
      for (const [name, { files }] of Object.entries(variants)) {
        for (const [format, bytes] of Object.entries(files)) await writeDurably(join(incoming, `${name}.${format}`), bytes);
      }
      await writeDurably(join(incoming, META), JSON.stringify(record));
      await syncDirectory(incoming);
      const shard = join(this.root, record.id.slice(-2));
      await mkdir(shard, { recursive: true });
      await rename(incoming, this.directory(record.id));
      await syncDirectory(shard);
    } catch (err) {
      await rm(incoming, { recursive: true, force: true });
      throw err;
    }
  }

  /** undefined when there is no such image. */
  async get(id: string): Promise<ImageRecord | undefined> {
    try {
      return withFiles(JSON.parse(await readFile(join(this.directory(id), META), 'utf8')) as ImageRecord);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** The variant's file, open for reading (a stream that closes it at its end), and its size; undefined when there is no such file. */
  async openVariant(id: string, variant: VariantName, format: OutputFormat): Promise<{ stream: ReadStream; size: number } | undefined> {
    let file;
    try {
      file = await open(join(this.directory(id), `${variant}.${format}`), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      return { stream: file.createReadStream(), size: (await file.stat()).size };
    } catch (err) {
      await file.close();
      throw err;
    }
  }

  /** false when there was no such image. */
  async delete(id: string): Promise<boolean> {
    const trash = join(this.root, TRASH, id);
    try {
      await rename(this.directory(id), trash);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    await rm(trash, { recursive: true, force: true });
    return true;
  }
}
