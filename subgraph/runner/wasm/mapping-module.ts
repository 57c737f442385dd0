/**
 * Runs one data source's compiled mapping (graph-cli output: AssemblyScript 0.19, stub runtime,
 * explicit `_start`) the way graph-node does, minus gas metering and timeouts.
 *
 * Instance lifecycle. graph-node instantiates a fresh module for every trigger, so no state (heap
 * objects, module-level variables) survives from one handler call to the next. A fresh V8
 * instance costs ~125 µs, more than the handler itself, so instead one instance is kept and,
 * before every call, put back into its exact post-`_start` state: all mutable globals (exported by
 * a binary rewrite, see wasm-globals.ts) and the memory contents are restored from a snapshot
 * (memory beyond it is zeroed, as in a fresh instance). The stub runtime never frees memory, so
 * without this every call would leave its heap behind (~3.4 KB for a load-and-save handler);
 * with it memory only grows to the peak of a single call. Zeroing costs ~10 µs per MB, so above
 * MAX_RETAINED_MEMORY a fresh instance (~125 µs) is cheaper and replaces the old one.
 *
 * Errors. A trap, an abort, a critical log or a failing host function inside a handler is thrown
 * as a MappingHandlerError. graph-node treats it as a deterministic indexing error: the subgraph
 * stops at that block. The caller must do the same (discard the block's pending writes and stop
 * indexing); the module resets itself before any further call, but nothing after the failed
 * trigger may be indexed.
 */
import { readFile } from "node:fs/promises";
import type { MappingStore } from "../store/types.js";
import { AscMemory, type AscExports } from "./asc-memory.js";
import { type EventInput, writeEthereumEvent } from "./ethereum-event.js";
import {
  createHostFunctions,
  type DataSourceInfo,
  type HostContext,
  type MappingLogger,
  resolveImports,
} from "./host-imports.js";
import { type WasmGlobal, type WasmImports, type WasmInstance, type WasmModule, wasmApi } from "./wasm-api.js";
import { exportMutableGlobals } from "./wasm-globals.js";

export interface MappingContext {
  logger: MappingLogger;
  dataSource: DataSourceInfo;
}

/** Above this, a module's memory is dropped by re-instantiating instead of being reused. */
const MAX_RETAINED_MEMORY = 4 * 1024 * 1024;

export class MappingHandlerError extends Error {
  override readonly name = "MappingHandlerError";

  constructor(
    readonly handler: string,
    readonly dataSource: string,
    readonly blockNumber: bigint,
    readonly logIndex: bigint,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      `handler ${handler} of data source ${dataSource} failed at block ${blockNumber}, log index ${logIndex}: ${reason}`,
      { cause },
    );
  }
}

interface Snapshot {
  readonly memory: Uint8Array;
  readonly globals: ReadonlyArray<readonly [WasmGlobal, number | bigint]>;
}

export class MappingModule {
  private instance!: WasmInstance;
  private memory!: AscMemory;
  private snapshot!: Snapshot;
  /** Whether a handler ran since the last restore. */
  private dirty = false;

  private constructor(
    private readonly module: WasmModule,
    private readonly imports: WasmImports,
    private readonly globalNames: readonly string[],
    private readonly host: HostContext,
  ) {
    this.instantiate();
  }

  /** Compiles and instantiates; fails naming every host function the module needs but we lack. */
  static async load(wasm: Uint8Array | string, ctx: MappingContext): Promise<MappingModule> {
    const bytes = typeof wasm === "string" ? new Uint8Array(await readFile(wasm)) : wasm;
    const rewritten = exportMutableGlobals(bytes);
    const module = await wasmApi.compile(rewritten.wasm);
    const host: HostContext = {
      store: null,
      logger: ctx.logger,
      dataSource: ctx.dataSource,
      blockHash: "",
      memory: null,
    };
    const imports = resolveImports(module, createHostFunctions(host));
    return new MappingModule(module, imports, rewritten.names, host);
  }

  /** Current size of the instance's linear memory (it only grows to the peak of one call). */
  get memoryBytes(): number {
    return this.exports.memory.buffer.byteLength;
  }

  /**
   * Runs `handlerName` (an exported function) on `event`. Store operations go to `store`: each
   * block has its own pending writes. Throws MappingHandlerError when the handler fails.
   */
  handle(handlerName: string, event: EventInput, store: MappingStore): void {
    if (this.dirty) this.restore(); // may replace the instance: look the handler up afterwards
    const handler = this.exports[handlerName];
    if (typeof handler !== "function") {
      throw new Error(`data source ${this.host.dataSource.name} has no exported handler "${handlerName}"`);
    }
    this.dirty = true;
    this.host.store = store;
    this.host.blockHash = event.block.hash;
    try {
      const eventPtr = writeEthereumEvent(this.memory, event);
      (handler as (ptr: number) => void)(eventPtr);
    } catch (err) {
      throw new MappingHandlerError(handlerName, this.host.dataSource.name, event.block.number, event.logIndex, err);
    } finally {
      this.host.store = null;
    }
  }

  private get exports(): AscExports & Record<string, unknown> {
    return this.instance.exports as unknown as AscExports & Record<string, unknown>;
  }

  private instantiate(): void {
    this.instance = new wasmApi.Instance(this.module, this.imports);
    const exports = this.exports;
    if (!(exports.memory instanceof wasmApi.Memory) || typeof exports.__new !== "function") {
      throw new Error("not a graph-cli mapping: it must export memory, __new and id_of_type (--exportRuntime)");
    }
    if (typeof exports.id_of_type !== "function") throw new Error("not a graph-ts mapping: no id_of_type export");
    this.memory = new AscMemory(exports);
    this.host.memory = this.memory;
    if (typeof exports._start === "function") (exports._start as () => void)();
    const globals = this.globalNames.map((name) => {
      const global = exports[name];
      if (!(global instanceof wasmApi.Global)) throw new Error(`global export ${name} is missing`);
      return [global, global.value as number | bigint] as const;
    });
    this.snapshot = { memory: new Uint8Array(exports.memory.buffer).slice(), globals };
    this.dirty = false;
  }

  /** Back to the post-`_start` state: what a fresh instance would look like. */
  private restore(): void {
    if (this.memoryBytes > MAX_RETAINED_MEMORY) {
      this.instantiate();
      return;
    }
    for (const [global, value] of this.snapshot.globals) global.value = value;
    const memory = new Uint8Array(this.exports.memory.buffer);
    memory.set(this.snapshot.memory);
    memory.fill(0, this.snapshot.memory.length);
    this.dirty = false;
  }
}
