/**
 * Node identity on forwarded calls: HTTP Message Signatures (RFC 9421) made with the node operator's
 * Ethereum key, so an API provider can refuse calls that did not come through a staked node.
 *
 * Profile (what `signRequest` produces and `verifyRequestSignature` demands):
 * - One signature, label `meshgate`, in `Signature-Input` / `Signature` (RFC 8941 dictionaries).
 * - Covered components, in this order: `"@method" "@authority" "@path" "@query" "meshgate-api-id"
 *   "meshgate-payer" "meshgate-call-id"`, then `"content-type"` and `"content-length"` when the request
 *   has them. A verifier also refuses a request that carries either content header uncovered, so a body's
 *   type or framing cannot be swapped under a signature. The body itself is not covered (no
 *   Content-Digest): the single-use call id and a short lifetime bound what a captured request can do.
 * - Parameters, in this order: `created` and `expires` (integer Unix seconds, `expires` at most
 *   MAX_SIGNATURE_LIFETIME_SECONDS after `created`), `keyid` (the node's checksummed address), and
 *   `alg="eip191-secp256k1"`.
 * - `eip191-secp256k1` is an application-specific algorithm (RFC 9421 §3.3.7): the signature base's bytes
 *   are signed as an EIP-191 `personal_sign` message, i.e. secp256k1 ECDSA over
 *   keccak256("\x19Ethereum Signed Message:\n" + byteLength(base) + base), and the signature is the
 *   65-byte Ethereum form r ‖ s ‖ v with low s and v ∈ {27, 28}. Any Ethereum wallet's `signMessage`
 *   produces it, and `ethers.verifyMessage(base, signature)` recovers the node. The key is identified by
 *   recovery, so `keyid` is checked against the recovered address rather than looked up.
 * - The base is encoded byte-for-byte as Latin-1, which is how HTTP/1.1 clients (undici) send header
 *   values and how Node decodes them; characters outside that range, and CR, LF or NUL, are refused.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import secp256k1 from "secp256k1";

/** The signature label in `Signature-Input` and `Signature`. */
export const SIGNATURE_LABEL = "meshgate";
/** The `alg` parameter: EIP-191 personal_sign with secp256k1 (see the module comment). */
export const SIGNATURE_ALGORITHM = "eip191-secp256k1";
/** How long a signature made by `signRequest` is valid (`expires - created`). */
export const SIGNATURE_LIFETIME_SECONDS = 30;
/** The longest lifetime a verifier accepts: it bounds how long a provider must remember call ids. */
export const MAX_SIGNATURE_LIFETIME_SECONDS = 300;
/** Components every Meshgate signature covers. */
export const REQUIRED_COMPONENTS: readonly string[] = [
  "@method",
  "@authority",
  "@path",
  "@query",
  "meshgate-api-id",
  "meshgate-payer",
  "meshgate-call-id",
];
/** Header fields covered when present (and then required to be covered). */
export const CONTENT_COMPONENTS: readonly string[] = ["content-type", "content-length"];

/**
 * A request as signed and verified. `authority` is the target's host[:port] without a default port (what
 * `URL.host` gives and a client sends as Host); `path` and `query` are `URL.pathname` and `URL.search`
 * (`""` or `"?..."`); header names are lowercase, as in Node's `IncomingMessage.headers`.
 */
export interface RequestParts {
  method: string;
  authority: string;
  path: string;
  query: string;
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
}

/** The two header fields a signed request carries (a type alias, so it spreads into any header record). */
export type SignatureHeaders = {
  "signature-input": string;
  signature: string;
};

/** Why a signature is refused: stable codes callers can branch on. */
export type SignatureRejection =
  | "missing_signature"
  | "malformed"
  | "unsupported_algorithm"
  | "expired"
  | "not_yet_valid"
  | "missing_component"
  | "bad_signature";

/** The outcome of `verifyRequestSignature`: the signing node (checksummed) or why it was refused. */
export type SignatureVerification =
  | { ok: true; node: string; created: number; expires: number; callId: string }
  | { ok: false; reason: SignatureRejection; detail: string };

/** What a verifier checks beyond the profile itself. */
export interface VerifyOptions {
  /** The time to judge `created`/`expires` against, in Unix seconds (default: the clock). */
  now?: number;
  /** Tolerated clock difference between node and verifier, in seconds (default 30). */
  maxSkewSeconds?: number;
  /** Components the signature must cover (default REQUIRED_COMPONENTS; `meshgate-call-id` always is). */
  requiredComponents?: readonly string[];
}

// Kept off the instance so that logging or serializing a NodeSigningKey cannot leak the key.
const PRIVATE_KEYS = new WeakMap<NodeSigningKey, Uint8Array>();

/** A node's signing key: parsed once, since `signRequest` runs on every forwarded call. */
export class NodeSigningKey {
  /** The node's checksummed address: the `keyid` of its signatures. */
  readonly address: string;

  /** @param privateKey the node operator's 0x-prefixed 32-byte secp256k1 private key */
  constructor(privateKey: string) {
    if (!/^0x[0-9a-fA-F]{64}$/.test(privateKey)) {
      throw new Error("a node signing key must be a 0x-prefixed 32-byte hex private key");
    }
    const key = Uint8Array.from(Buffer.from(privateKey.slice(2), "hex"));
    if (!secp256k1.privateKeyVerify(key)) throw new Error("the node signing key is not a valid secp256k1 key");
    this.address = addressOf(secp256k1.publicKeyCreate(key, false));
    PRIVATE_KEYS.set(this, key);
  }
}

/**
 * Signs a request a node forwards to an upstream. The caller sets every header it signs
 * (`meshgate-api-id`, `meshgate-payer`, `meshgate-call-id`, and `content-type`/`content-length` when the
 * request has a body) before signing, and sends them unchanged.
 * @param key the node's signing key
 * @param req the request exactly as it will be sent
 * @param now the signature's `created` time in Unix seconds (default: the clock)
 * @returns the `Signature-Input` and `Signature` header values to add
 */
export function signRequest(
  key: NodeSigningKey,
  req: RequestParts,
  now: number = Math.floor(Date.now() / 1000),
): SignatureHeaders {
  const privateKey = PRIVATE_KEYS.get(key);
  if (privateKey === undefined) throw new Error("not a NodeSigningKey");
  if (!Number.isSafeInteger(now)) throw new Error("created must be an integer number of seconds");
  const components = [...REQUIRED_COMPONENTS];
  for (const name of CONTENT_COMPONENTS) if (req.headers[name] !== undefined) components.push(name);
  let base = "";
  for (const name of components) {
    const value = componentValue(req, name);
    if (typeof value !== "string") throw new Error(`cannot sign ${name}: ${value.detail}`);
    base += `"${name}": ${value}\n`;
  }
  const params =
    `(${components.map((c) => `"${c}"`).join(" ")});created=${now};expires=${now + SIGNATURE_LIFETIME_SECONDS}` +
    `;keyid="${key.address}";alg="${SIGNATURE_ALGORITHM}"`;
  base += `"@signature-params": ${params}`;
  const { signature, recid } = secp256k1.ecdsaSign(eip191Digest(base), privateKey);
  const sig = Buffer.alloc(65);
  sig.set(signature);
  sig[64] = 27 + recid;
  return {
    "signature-input": `${SIGNATURE_LABEL}=${params}`,
    signature: `${SIGNATURE_LABEL}=:${sig.toString("base64")}:`,
  };
}

/**
 * Verifies the `meshgate` signature of a request: profile, validity window, covered components and
 * signature. It proves which node signed, not that the node is staked: check `node` against NodeStaking,
 * and refuse a `callId` seen before from the same node until `expires` plus the skew has passed.
 * @param req the request as received, `signature` and `signature-input` among its headers
 * @param opts the clock, the skew tolerance and the components to demand
 */
export function verifyRequestSignature(req: RequestParts, opts: VerifyOptions = {}): SignatureVerification {
  const now = opts.now ?? Date.now() / 1000;
  const skew = opts.maxSkewSeconds ?? 30;
  const inputField = headerValue(req.headers, "signature-input");
  const signatureField = headerValue(req.headers, "signature");
  if (inputField === undefined || signatureField === undefined) {
    return reject("missing_signature", "the request has no Signature-Input or no Signature header");
  }
  let input: Member | undefined;
  let signature: Member | undefined;
  try {
    input = parseDictionary(inputField).get(SIGNATURE_LABEL);
    signature = parseDictionary(signatureField).get(SIGNATURE_LABEL);
  } catch (err) {
    return reject("malformed", `a signature header is not a structured-field dictionary: ${(err as Error).message}`);
  }
  if (input === undefined || signature === undefined) {
    return reject("missing_signature", `the request has no signature labelled ${SIGNATURE_LABEL}`);
  }
  if (!("items" in input)) return reject("malformed", "the signature input is not an inner list");
  if ("items" in signature || signature.value.kind !== "bytes" || signature.value.value.length !== 65) {
    return reject("malformed", "the signature is not a 65-byte byte sequence");
  }

  const alg = input.params.get("alg");
  const keyid = input.params.get("keyid");
  const created = input.params.get("created");
  const expires = input.params.get("expires");
  if (alg?.kind !== "string") return reject("malformed", "the alg parameter is missing or not a string");
  if (alg.value !== SIGNATURE_ALGORITHM) {
    return reject("unsupported_algorithm", `the algorithm must be ${SIGNATURE_ALGORITHM}, not ${alg.value}`);
  }
  if (keyid?.kind !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(keyid.value)) {
    return reject("malformed", "the keyid parameter is not an address");
  }
  if (created?.kind !== "integer" || expires?.kind !== "integer") {
    return reject("malformed", "the created and expires parameters must be integers");
  }
  if (expires.value <= created.value || expires.value - created.value > MAX_SIGNATURE_LIFETIME_SECONDS) {
    return reject("malformed", `expires must be 1 to ${MAX_SIGNATURE_LIFETIME_SECONDS} seconds after created`);
  }
  if (created.value > now + skew) return reject("not_yet_valid", "the signature was created in the future");
  if (now > expires.value + skew) return reject("expired", "the signature has expired");

  const covered: string[] = [];
  for (const item of input.items) {
    if (item.value.kind !== "string" || item.params.size > 0) {
      return reject("malformed", "a component identifier is not a plain string (parameters are not supported)");
    }
    const name = item.value.value;
    if (!(name.startsWith("@") ? DERIVED_COMPONENTS.has(name) : FIELD_NAME.test(name))) {
      return reject("malformed", `component ${name} is not supported`);
    }
    if (covered.includes(name)) return reject("malformed", `${name} is covered twice`);
    covered.push(name);
  }
  const required = [...(opts.requiredComponents ?? REQUIRED_COMPONENTS), "meshgate-call-id"];
  for (const name of CONTENT_COMPONENTS) if (req.headers[name] !== undefined) required.push(name);
  for (const name of required) {
    if (!covered.includes(name)) return reject("missing_component", `the signature does not cover ${name}`);
  }

  let base = "";
  let callId = "";
  for (const name of covered) {
    const value = componentValue(req, name);
    if (typeof value !== "string") return reject(value.reason, value.detail);
    if (name === "meshgate-call-id") callId = value;
    base += `"${name}": ${value}\n`;
  }
  base += `"@signature-params": ${serializeInnerList(input)}`;
  const signer = recoverSigner(eip191Digest(base), signature.value.value);
  if (signer !== keyid.value.slice(2).toLowerCase()) {
    return reject("bad_signature", "the signature was not made by the keyid's key over this request");
  }
  return { ok: true, node: checksumAddress(signer), created: created.value, expires: expires.value, callId };
}

function reject(reason: SignatureRejection, detail: string): SignatureVerification {
  return { ok: false, reason, detail };
}

// ---- Components (RFC 9421 §2) ----

// Anything but HTAB, visible ASCII, SP and obs-text: CR/LF would forge extra base lines.
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
// Field names are lowercase in identifiers (RFC 9421 §2.1).
const FIELD_NAME = /^[a-z0-9!#$%&'*+\-.^_`|~]+$/;
const DERIVED_COMPONENTS = new Set(["@method", "@authority", "@path", "@query"]);

type ComponentError = { reason: "malformed" | "missing_component"; detail: string };

/** A component's canonical value (RFC 9421 §2.1-2.2), or why it has none. */
function componentValue(req: RequestParts, name: string): string | ComponentError {
  let value: string | undefined;
  switch (name) {
    case "@method":
      value = req.method; // case-sensitive: no normalization (§2.2.1)
      break;
    case "@authority":
      value = req.authority.toLowerCase();
      break;
    case "@path":
      value = req.path === "" ? "/" : req.path;
      break;
    case "@query":
      // An absent or empty query is "?" alone (§2.2.7).
      value = req.query.startsWith("?") ? req.query : `?${req.query}`;
      break;
    default:
      value = headerValue(req.headers, name);
      if (value === undefined) return { reason: "missing_component", detail: `the request has no ${name} header` };
      value = value.replace(/^[ \t]+|[ \t]+$/g, "");
  }
  if (BAD_VALUE.test(value)) return { reason: "malformed", detail: `${name} has a character that cannot be signed` };
  return value;
}

/** A header's value, multiple field lines combined with ", " (RFC 9421 §2.1). */
function headerValue(headers: RequestParts["headers"], name: string): string | undefined {
  const value = headers[name];
  return typeof value === "string" || value === undefined ? value : value.join(", ");
}

// ---- Crypto ----

const HALF_ORDER = Buffer.from("7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0", "hex");

function eip191Digest(base: string): Uint8Array {
  // Every character is below 0x100 (componentValue refuses others), so length is the byte length.
  return keccak_256(Buffer.from(`\x19Ethereum Signed Message:\n${base.length}${base}`, "latin1"));
}

/** The lowercase hex address (no 0x) that signed `digest`, or undefined for a malformed or high-s signature. */
function recoverSigner(digest: Uint8Array, sig: Uint8Array): string | undefined {
  const v = sig[64]!;
  if (v !== 27 && v !== 28) return undefined;
  if (Buffer.compare(sig.subarray(32, 64), HALF_ORDER) > 0) return undefined;
  try {
    return Buffer.from(keccak_256(secp256k1.ecdsaRecover(sig.subarray(0, 64), v - 27, digest, false).subarray(1)))
      .subarray(12)
      .toString("hex");
  } catch {
    return undefined;
  }
}

function addressOf(uncompressedPublicKey: Uint8Array): string {
  return checksumAddress(Buffer.from(keccak_256(uncompressedPublicKey.subarray(1)).subarray(12)).toString("hex"));
}

/** EIP-55 checksum of a lowercase 40-digit hex address. */
function checksumAddress(hex: string): string {
  const hash = keccak_256(Buffer.from(hex, "latin1"));
  let out = "0x";
  for (let i = 0; i < 40; i++) {
    const nibble = (hash[i >> 1]! >> (i % 2 === 0 ? 4 : 0)) & 0xf;
    out += nibble >= 8 ? hex[i]!.toUpperCase() : hex[i]!;
  }
  return out;
}

// ---- Structured fields (RFC 8941): the dictionary parser and inner-list serializer the profile needs ----

type BareItem =
  | { kind: "integer" | "decimal"; value: number }
  | { kind: "string" | "token"; value: string }
  | { kind: "bytes"; value: Uint8Array }
  | { kind: "boolean"; value: boolean };
type Parameters = Map<string, BareItem>;
interface Item {
  value: BareItem;
  params: Parameters;
}
interface InnerList {
  items: Item[];
  params: Parameters;
}
type Member = Item | InnerList;

const KEY = /[a-z*][a-z0-9_\-.*]*/y;
const NUMBER = /(-?)([0-9]+)(?:\.([0-9]+))?/y;
const STRING = /"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"/y;
const TOKEN = /[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*/y;
const BYTES = /:([A-Za-z0-9+/]*={0,2}):/y;
const BOOLEAN = /\?([01])/y;
const OWS = /[ \t]*/y;
const SP = / */y;

/** Parses an RFC 8941 dictionary; throws on any syntax error (§4.2.2). */
function parseDictionary(field: string): Map<string, Member> {
  const p = new Cursor(field.replace(/^ +| +$/g, ""));
  const dict = new Map<string, Member>();
  while (!p.done()) {
    const key = p.match(KEY, "a key")[0];
    let member: Member;
    if (p.peek() === "=") {
      p.pos++;
      member = p.peek() === "(" ? p.innerList() : p.item();
    } else {
      member = { value: { kind: "boolean", value: true }, params: p.params() };
    }
    dict.set(key, member);
    p.skip(OWS);
    if (p.done()) break;
    if (p.peek() !== ",") throw new Error(`expected "," at ${p.pos}`);
    p.pos++;
    p.skip(OWS);
    if (p.done()) throw new Error("trailing comma");
  }
  return dict;
}

class Cursor {
  pos = 0;

  constructor(private readonly input: string) {}

  done(): boolean {
    return this.pos >= this.input.length;
  }

  peek(): string | undefined {
    return this.input[this.pos];
  }

  match(re: RegExp, what: string): RegExpExecArray {
    re.lastIndex = this.pos;
    const m = re.exec(this.input);
    if (m === null) throw new Error(`expected ${what} at ${this.pos}`);
    this.pos = re.lastIndex;
    return m;
  }

  skip(re: RegExp): void {
    re.lastIndex = this.pos;
    re.exec(this.input);
    this.pos = re.lastIndex;
  }

  innerList(): InnerList {
    this.pos++; // "("
    const items: Item[] = [];
    for (;;) {
      this.skip(SP);
      if (this.peek() === ")") {
        this.pos++;
        return { items, params: this.params() };
      }
      items.push(this.item());
      const next = this.peek();
      if (next !== " " && next !== ")") throw new Error(`expected " " or ")" at ${this.pos}`);
    }
  }

  item(): Item {
    return { value: this.bareItem(), params: this.params() };
  }

  params(): Parameters {
    const params: Parameters = new Map();
    while (this.peek() === ";") {
      this.pos++;
      this.skip(SP);
      const key = this.match(KEY, "a parameter key")[0];
      let value: BareItem = { kind: "boolean", value: true };
      if (this.peek() === "=") {
        this.pos++;
        value = this.bareItem();
      }
      params.set(key, value);
    }
    return params;
  }

  bareItem(): BareItem {
    const c = this.peek() ?? "";
    if (c === "-" || (c >= "0" && c <= "9")) {
      const m = this.match(NUMBER, "a number");
      const [sign, int, frac] = [m[1]!, m[2]!, m[3]];
      if (frac === undefined) {
        if (int.length > 15) throw new Error("integer too long");
        return { kind: "integer", value: Number(sign + int) };
      }
      if (int.length > 12 || frac.length > 3) throw new Error("decimal too long");
      return { kind: "decimal", value: Number(`${sign}${int}.${frac}`) };
    }
    if (c === '"') return { kind: "string", value: this.match(STRING, "a string")[1]!.replace(/\\(["\\])/g, "$1") };
    if (c === ":") return { kind: "bytes", value: Buffer.from(this.match(BYTES, "a byte sequence")[1]!, "base64") };
    if (c === "?") return { kind: "boolean", value: this.match(BOOLEAN, "a boolean")[1] === "1" };
    return { kind: "token", value: this.match(TOKEN, "an item")[0] };
  }
}

/** Canonical serialization of an inner list: the `@signature-params` value (RFC 9421 §2.3). */
function serializeInnerList(list: InnerList): string {
  return `(${list.items.map((i) => serializeBareItem(i.value) + serializeParams(i.params)).join(" ")})${serializeParams(list.params)}`;
}

function serializeParams(params: Parameters): string {
  let out = "";
  for (const [key, value] of params) {
    out += value.kind === "boolean" && value.value ? `;${key}` : `;${key}=${serializeBareItem(value)}`;
  }
  return out;
}

function serializeBareItem(item: BareItem): string {
  switch (item.kind) {
    case "integer":
    case "token":
      return String(item.value);
    case "decimal":
      return item.value
        .toFixed(3)
        .replace(/(\.\d*?)0+$/, "$1")
        .replace(/\.$/, ".0");
    case "string":
      return `"${item.value.replace(/[\\"]/g, "\\$&")}"`;
    case "bytes":
      return `:${Buffer.from(item.value).toString("base64")}:`;
    case "boolean":
      return item.value ? "?1" : "?0";
  }
}
