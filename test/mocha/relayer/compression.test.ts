import { expect } from "chai";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { brotliDecompressSync, constants, gunzipSync } from "node:zlib";
import {
  compressBuffer,
  compressStream,
  encodedResponseHeaders,
  isCompressible,
  negotiateEncoding,
  type ContentCoding,
} from "../../../relayer/http/compression.js";

const decompress = (encoding: ContentCoding, buf: Buffer) =>
  encoding === "br" ? brotliDecompressSync(buf) : gunzipSync(buf);

describe("relayer compression", function () {
  describe("negotiateEncoding", function () {
    const cases: [string | undefined, ContentCoding | undefined][] = [
      [undefined, undefined],
      ["", undefined],
      ["gzip", "gzip"],
      ["br", "br"],
      ["gzip, deflate, br", "br"],
      ["gzip, deflate, br, zstd", "br"],
      ["GZIP", "gzip"],
      ["x-gzip", "gzip"],
      ["deflate", undefined],
      ["identity", undefined],
      ["br;q=0.5, gzip;q=0.8", "gzip"],
      ["br;q=0.8, gzip;q=0.8", "br"],
      ["gzip;q=1.0, br;q=0.999", "gzip"],
      ["br ; q=0.9 , gzip;q=0.1", "br"],
      ["gzip;q=0", undefined],
      ["br;q=0, gzip", "gzip"],
      ["br;q=0, gzip;q=0", undefined],
      ["*", "br"],
      ["*;q=0", undefined],
      ["gzip;q=0, *", "br"],
      ["br;q=0, *;q=0.5", "gzip"],
      ["*;q=0, gzip", "gzip"],
      ["identity;q=0", undefined],
      ["identity;q=0, gzip", "gzip"],
      ["identity;q=1, gzip;q=0.5", undefined],
      ["identity;q=0.5, gzip;q=0.5", "gzip"],
      ["gzip;q=0, gzip", undefined],
      ["gzip;q=2", undefined],
      ["gzip;q=abc, br", "br"],
      ["gzip;q=0.1234", undefined],
      ["gzip;q=", undefined],
      ["gzip;q=0.5=1, br;q=0.1", "br"],
      [",,, ;;; ==", undefined],
      ["gzip;;q=0.5", "gzip"],
      ["\u0000br\uffff", undefined],
      ["q=1", undefined],
    ];
    for (const [header, expected] of cases) {
      it(`${JSON.stringify(header)} -> ${String(expected)}`, function () {
        expect(negotiateEncoding(header)).to.equal(expected);
      });
    }

    it("never throws on garbage", function () {
      const alphabet = [
        '"',
        ",",
        ";",
        "=",
        "q",
        "*",
        " ",
        "\t",
        "0",
        ".",
        "1",
        "br",
        "gzip",
        "\\",
        "\u00e9",
        "identity",
      ];
      let seed = 42;
      for (let i = 0; i < 2_000; i++) {
        let input = "";
        for (let n = i % 40; n > 0; n--) {
          seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
          input += alphabet[seed % alphabet.length];
        }
        expect(["br", "gzip", undefined]).to.include(negotiateEncoding(input));
      }
    });
  });

  describe("isCompressible", function () {
    const cases: [string | undefined, string | undefined, number | undefined, string | undefined, boolean][] = [
      ["application/json", undefined, undefined, undefined, true],
      ["application/json; charset=utf-8", undefined, 5_000, undefined, true],
      ["Application/JSON", undefined, undefined, undefined, true],
      ["text/html", undefined, 1_024, undefined, true],
      ["text/csv", "identity", undefined, undefined, true],
      ["application/javascript", undefined, undefined, undefined, true],
      ["application/xml", undefined, undefined, undefined, true],
      ["application/problem+json", undefined, undefined, undefined, true],
      ["image/svg+xml", undefined, undefined, undefined, true],
      ["text/event-stream", undefined, undefined, undefined, false],
      ["image/png", undefined, 100_000, undefined, false],
      ["application/octet-stream", undefined, undefined, undefined, false],
      [undefined, undefined, 100_000, undefined, false],
      ["application/json", "gzip", undefined, undefined, false],
      ["application/json", "br", 100_000, undefined, false],
      ["application/json", undefined, 1_023, undefined, false],
      ["application/json", undefined, 0, undefined, false],
      ["application/json", undefined, 5_000, "public, no-transform", false],
      ["application/json", undefined, 5_000, "max-age=60", true],
    ];
    for (const [contentType, contentEncoding, length, cacheControl, expected] of cases) {
      it(`${String(contentType)} ${String(contentEncoding)} ${String(length)} ${String(cacheControl)}`, function () {
        expect(isCompressible(contentType, contentEncoding, length, cacheControl)).to.equal(expected);
      });
    }
  });

  describe("compressStream and compressBuffer", function () {
    const input = Buffer.from(JSON.stringify(Array.from({ length: 2_000 }, (_, i) => ({ id: i, name: `item ${i}` }))));

    for (const encoding of ["br", "gzip"] as const) {
      it(`${encoding} streams round-trip`, async function () {
        const chunks: Buffer[] = [];
        const pieces = [input.subarray(0, 10), input.subarray(10, 30_000), input.subarray(30_000)];
        await pipeline(Readable.from(pieces), compressStream(encoding), async function (source) {
          for await (const chunk of source) chunks.push(chunk as Buffer);
        });
        const compressed = Buffer.concat(chunks);
        expect(compressed.length).to.be.lessThan(input.length / 3);
        expect(decompress(encoding, compressed).equals(input)).to.be.true;
      });

      it(`${encoding} flushes each chunk so streamed bodies are not held back`, async function () {
        const stream = compressStream(encoding);
        const out: Buffer[] = [];
        stream.on("data", (chunk: Buffer) => out.push(chunk));
        stream.write(Buffer.from('{"partial":'));
        // Without a per-write flush nothing would come out before end(); wait for the flushed bytes.
        const decodeSoFar = () =>
          (encoding === "br"
            ? brotliDecompressSync(Buffer.concat(out), { finishFlush: constants.BROTLI_OPERATION_FLUSH })
            : gunzipSync(Buffer.concat(out), { finishFlush: constants.Z_SYNC_FLUSH })
          ).toString();
        for (let i = 0; i < 100 && (out.length === 0 || decodeSoFar() === ""); i++) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        expect(decodeSoFar()).to.equal('{"partial":');
        stream.end();
      });

      it(`${encoding} buffers round-trip`, async function () {
        expect(decompress(encoding, await compressBuffer(encoding, input)).equals(input)).to.be.true;
        expect(decompress(encoding, await compressBuffer(encoding, Buffer.alloc(0))).length).to.equal(0);
      });
    }
  });

  describe("encodedResponseHeaders", function () {
    it("marks the coding, drops identity-only headers and weakens a strong ETag", function () {
      const headers = {
        "content-type": "application/json",
        "content-length": "5000",
        "accept-ranges": "bytes",
        "content-digest": "sha-256=:abc=:",
        etag: '"v1"',
        vary: "Accept",
      };
      expect(encodedResponseHeaders(headers, "br")).to.deep.equal({
        "content-type": "application/json",
        "content-encoding": "br",
        etag: 'W/"v1"',
        vary: "Accept, Accept-Encoding",
      });
      expect(headers["content-length"]).to.equal("5000");
      expect(headers.etag).to.equal('"v1"');
    });

    it("keeps a weak ETag and an existing Accept-Encoding in Vary", function () {
      const out = encodedResponseHeaders({ etag: 'W/"v1"', vary: ["accept-encoding", "origin"] }, "gzip");
      expect(out).to.deep.equal({ etag: 'W/"v1"', vary: "accept-encoding, origin", "content-encoding": "gzip" });
    });

    it("adds Vary even when the client gets identity", function () {
      expect(encodedResponseHeaders({ "content-length": "5000", etag: '"v1"' }, undefined)).to.deep.equal({
        "content-length": "5000",
        etag: '"v1"',
        vary: "Accept-Encoding",
      });
    });

    it("leaves Vary: * alone", function () {
      expect(encodedResponseHeaders({ vary: "*" }, "gzip").vary).to.equal("*");
    });
  });
});
