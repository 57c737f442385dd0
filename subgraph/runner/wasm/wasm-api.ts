/**
 * The part of the WebAssembly JavaScript API the runner uses. TypeScript declares `WebAssembly`
 * only in the DOM libs, which this project does not compile with, so the slice is typed here.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

export interface WasmGlobal {
  value: number | bigint;
}

export interface WasmModuleImport {
  readonly module: string;
  readonly name: string;
  readonly kind: "function" | "table" | "memory" | "global" | "tag";
}

/** WASM boundary: graph-ts host functions take and return i32 only (pointers, u8/u32, bools). */
export type WasmHostFunction = (...args: number[]) => number | void;

export type WasmImports = Record<string, Record<string, WasmHostFunction>>;

/** A compiled module; opaque to JavaScript. */
export interface WasmModule {
  readonly __brand: "WebAssembly.Module";
}

export interface WasmInstance {
  readonly exports: Readonly<Record<string, unknown>>;
}

interface WasmApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  readonly Module: { imports(module: WasmModule): WasmModuleImport[] };
  readonly Instance: new (module: WasmModule, imports: WasmImports) => WasmInstance;
  readonly Memory: abstract new (...args: never[]) => WasmMemory;
  readonly Global: abstract new (...args: never[]) => WasmGlobal;
}

export const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
