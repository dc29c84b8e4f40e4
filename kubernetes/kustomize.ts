/**
 * A small kustomize, for the tests: builds a kustomization the way `kubectl kustomize` does for the
 * features this project's kustomizations use — `resources` (files, and folders holding a
 * kustomization), `patches` (JSON 6902 operations, aimed by `target` kind and name) and `images`
 * (new name and tag). Anything else in a kustomization is refused, so a feature added later is
 * noticed here rather than silently ignored. `manifests.unit.spec.ts` compares its output with
 * `kubectl kustomize` where kubectl is installed.
 */
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML
export type Manifest = Record<string, any>;

interface Operation {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  resources?: string[];
  patches?: { target: { kind?: string; name?: string }; patch: string }[];
  images?: { name: string; newName?: string; newTag?: string }[];
}

const KNOWN = new Set(['apiVersion', 'kind', 'resources', 'patches', 'images']);

/** The kustomization in `dir`, read and checked for features this resolver does not have. */
export function readKustomization(dir: string): Kustomization {
  const kustomization = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Kustomization;
  const unknown = Object.keys(kustomization).filter((key) => !KNOWN.has(key));
  if (unknown.length > 0) throw new Error(`${dir}/kustomization.yaml uses ${unknown.join(', ')}, which kubernetes/kustomize.ts does not build`);
  return kustomization;
}

function readManifests(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((doc) => doc.toJS() as Manifest).filter((doc) => doc !== null);
}

/** JSON pointer segments (RFC 6901: `~1` is `/`, `~0` is `~`). */
const segments = (path: string) => path.split('/').slice(1).map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));

function applyOperation(doc: Manifest, { op, path, value }: Operation): void {
  const keys = segments(path);
  const last = keys.pop()!;
  let parent: Manifest = doc;
  for (const key of keys) {
    parent = parent[key];
    if (parent === undefined || parent === null) throw new Error(`patch ${op} ${path}: ${key} does not exist in ${doc.kind} ${doc.metadata?.name}`);
  }
  const isArray = Array.isArray(parent);
  if (op !== 'add' && !(isArray ? Number(last) < parent.length : last in parent)) {
    throw new Error(`patch ${op} ${path}: nothing there in ${doc.kind} ${doc.metadata?.name}`);
  }
  if (op === 'remove') {
    if (isArray) parent.splice(Number(last), 1);
    else delete parent[last];
  } else if (isArray && op === 'add') {
    parent.splice(last === '-' ? parent.length : Number(last), 0, structuredClone(value));
  } else {
    parent[last] = structuredClone(value);
  }
}

/** `name:tag` or `name@digest` → name (what kustomize's `images` matches). */
const imageName = (image: string) => image.replace(/@.*$/, '').replace(/:[^:/]*$/, '');

function setImages(doc: Manifest, images: NonNullable<Kustomization['images']>): void {
  const pod = doc.spec?.template?.spec ?? doc.spec?.jobTemplate?.spec?.template?.spec;
  for (const container of [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])]) {
    const image = images.find((i) => i.name === imageName(container.image));
    if (image === undefined) continue;
    const tag = image.newTag ?? /:([^:/]*)$/.exec(container.image)?.[1];
    container.image = `${image.newName ?? image.name}${tag === undefined ? '' : `:${tag}`}`;
  }
}

/** Every manifest the kustomization in `dir` builds, in kustomize's resource order. */
export function build(dir: string): Manifest[] {
  const kustomization = readKustomization(dir);
  const docs = (kustomization.resources ?? []).flatMap((resource) => {
    const path = resolve(dir, resource);
    return statSync(path).isDirectory() ? build(path) : readManifests(path);
  });
  for (const { target, patch } of kustomization.patches ?? []) {
    const matched = docs.filter((d) => (target.kind === undefined || d.kind === target.kind) && (target.name === undefined || d.metadata?.name === target.name));
    if (matched.length === 0) throw new Error(`${dir}: a patch's target ${JSON.stringify(target)} matches nothing`);
    for (const doc of matched) for (const operation of parse(patch) as Operation[]) applyOperation(doc, operation);
  }
  if (kustomization.images) for (const doc of docs) setImages(doc, kustomization.images);
  return docs;
}
