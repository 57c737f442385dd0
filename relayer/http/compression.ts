import { type Transform } from "node:stream";
import { promisify } from "node:util";
import zlib, { type BrotliOptions, type ZlibOptions } from "node:zlib";

/** The content codings the relayer produces itself. */
export type ContentCoding = "br" | "gzip";

/** Header maps as node:http and undici deliver them: lowercase names. */
export type HeaderMap = Record<string, string | string[] | undefined>;

/** Bodies with a known length below this are sent as is: the coding overhead outweighs the saving. */
export const MIN_COMPRESSIBLE_BYTES = 1024;

// Both levels favour throughput over ratio: the relayer compresses on the hot path of every proxied call, and
// brotli 4 / gzip 6 sit near the knee of the speed/ratio curve (brotli's default 11 is tens of times slower for
// a modest gain). Each upstream chunk is flushed so a slowly streamed body (long polls, incremental JSON)
// reaches the client as it arrives instead of waiting in the compressor's window; the ratio cost is small for
// chunks of several KiB.
const BROTLI_OPTIONS: BrotliOptions = {
  flush: zlib.constants.BROTLI_OPERATION_FLUSH,
  params: {
    [zlib.constants.BROTLI_PARAM_QUALITY]: 4,
    [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
  },
};
const GZIP_OPTIONS: ZlibOptions = { level: 6, flush: zlib.constants.Z_SYNC_FLUSH };

const brotliCompress = promisify(zlib.brotliCompress);
const gzipCompress = promisify(zlib.gzip);

/**
 * Picks the coding to apply from a request's Accept-Encoding (RFC 9110 §12.5.3): the acceptable coding with
 * the highest q-value, br over gzip on a tie; `*` stands for codings not listed; `x-gzip` means gzip.
 * Returns undefined (send identity) when the header is absent, nothing we produce is acceptable, or the client
 * explicitly ranks identity above every acceptable coding. Malformed elements are skipped; never throws.
 */
export function negotiateEncoding(acceptEncoding: string | undefined): ContentCoding | undefined {
  if (acceptEncoding === undefined) return undefined;
  const q = new Map<string, number>();
  for (const element of acceptEncoding.split(",")) {
    const [rawCoding = "", ...params] = element.split(";");
    const coding = rawCoding.trim().toLowerCase();
    if (coding === "") continue;
    let weight: number | undefined = 1;
    for (const param of params) {
      const eq = param.indexOf("=");
      if (eq >= 0 && param.slice(0, eq).trim().toLowerCase() === "q") weight = parseQValue(param.slice(eq + 1).trim());
    }
    const key = coding === "x-gzip" ? "gzip" : coding;
    // The first occurrence wins, so a repeated coding cannot override an explicit refusal.
    if (weight !== undefined && !q.has(key)) q.set(key, weight);
  }
  const wildcard = q.get("*") ?? 0;
  const br = q.get("br") ?? wildcard;
  const gzip = q.get("gzip") ?? wildcard;
  const best = Math.max(br, gzip);
  if (best <= 0) return undefined;
  const identity = q.get("identity");
  if (identity !== undefined && identity > best) return undefined;
  return br >= gzip ? "br" : "gzip";
}

/** RFC 9110 §12.4.2 qvalue: 0 to 1 with at most three decimals; anything else makes the element invalid. */
function parseQValue(value: string): number | undefined {
  return /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.test(value) ? Number(value) : undefined;
}

/** Media types worth compressing: text-like formats. Event streams are excluded: tiny flushed events gain little. */
function isTextLike(mediaType: string): boolean {
  if (mediaType === "text/event-stream") return false;
  if (mediaType.startsWith("text/")) return true;
  if (mediaType.endsWith("+json") || mediaType.endsWith("+xml")) return true;
  return ["application/json", "application/javascript", "application/x-javascript", "application/xml"].includes(
    mediaType,
  );
}

/**
 * Whether the relayer should compress a response body: a text-like media type (JSON, text/*, JavaScript, XML,
 * +json/+xml suffixes), no content coding already applied, a known length (if any) of at least
 * {@link MIN_COMPRESSIBLE_BYTES}, and no `Cache-Control: no-transform` (RFC 9111 §5.2.2.6 forbids a proxy to
 * change the content then). Callers also skip bodiless responses (HEAD, 204, 304) and 206, whose
 * Content-Range counts identity bytes.
 */
export function isCompressible(
  contentType: string | undefined,
  contentEncoding: string | undefined,
  length: number | undefined,
  cacheControl?: string,
): boolean {
  if (contentType === undefined) return false;
  if (contentEncoding !== undefined && contentEncoding.trim().toLowerCase() !== "identity") return false;
  if (length !== undefined && length < MIN_COMPRESSIBLE_BYTES) return false;
  if (cacheControl !== undefined && /(?:^|,)\s*no-transform\s*(?:,|$)/i.test(cacheControl)) return false;
  const mediaType = (contentType.split(";", 1)[0] ?? "").trim().toLowerCase();
  return isTextLike(mediaType);
}

/** A streaming compressor for a proxied body; pipe the upstream body through it into the client response. */
export function compressStream(encoding: ContentCoding): Transform {
  return encoding === "br" ? zlib.createBrotliCompress(BROTLI_OPTIONS) : zlib.createGzip(GZIP_OPTIONS);
}

/** Compresses a whole body (a cached one) off the main thread, with the same settings as {@link compressStream}. */
export function compressBuffer(encoding: ContentCoding, body: Buffer): Promise<Buffer> {
  return encoding === "br" ? brotliCompress(body, BROTLI_OPTIONS) : gzipCompress(body, GZIP_OPTIONS);
}

// Headers describing the identity bytes, wrong once the content is re-encoded.
const IDENTITY_ONLY_HEADERS = ["content-length", "content-md5", "content-digest", "repr-digest", "accept-ranges"];

/**
 * Response headers for a body the relayer may compress. Call it for every compressible response, with the
 * negotiated coding or undefined when the client gets identity: `Vary: Accept-Encoding` is needed either way
 * so downstream caches keep the variants apart. With a coding it also sets Content-Encoding, drops headers
 * that describe the identity bytes (Content-Length, digests, Accept-Ranges) and weakens a strong ETag, since
 * the encoded bytes differ from the ones the upstream tagged. Returns a new map; the input (possibly a cache
 * entry's headers) is not modified.
 */
export function encodedResponseHeaders(headers: HeaderMap, encoding: ContentCoding | undefined): HeaderMap {
  const out: HeaderMap = { ...headers };
  out.vary = withVaryAcceptEncoding(headers.vary);
  if (encoding === undefined) return out;
  out["content-encoding"] = encoding;
  for (const name of IDENTITY_ONLY_HEADERS) delete out[name];
  const etag = headers.etag;
  if (typeof etag === "string" && etag.startsWith('"')) out.etag = `W/${etag}`;
  return out;
}

function withVaryAcceptEncoding(vary: string | string[] | undefined): string {
  const current = Array.isArray(vary) ? vary.join(", ") : (vary ?? "");
  const names = current
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== "");
  if (names.includes("*") || names.includes("accept-encoding")) return current;
  return names.length === 0 ? "Accept-Encoding" : `${current}, Accept-Encoding`;
}
