/**
 * The `Meshgate-Voucher` header: base64url of a JSON object
 * `{ payer, apiId, token, cumulativeAmount, signature, node? }` (node defaults to the relayer's own;
 * apiId and cumulativeAmount are decimal strings). sdk/client.ts encodes it.
 */
import { z } from "zod";
import { GatewayError } from "../errors.js";

export const VOUCHER_HEADER = "meshgate-voucher";
/** A base64url JSON voucher is ~330 characters; anything much longer is not one. */
const MAX_HEADER_LENGTH = 1024;

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/);
const uint = (max: bigint) =>
  z
    .string()
    .regex(/^(0|[1-9]\d{0,77})$/)
    .transform((v) => BigInt(v))
    .refine((v) => v <= max, "out of range");

const voucherHeaderSchema = z.strictObject({
  payer: address,
  /** Optional: lets the relayer say "wrong node" instead of "signer not authorized". */
  node: address.optional(),
  apiId: uint((1n << 256n) - 1n),
  token: address,
  cumulativeAmount: uint((1n << 128n) - 1n),
  signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/),
});

export type VoucherHeader = z.infer<typeof voucherHeaderSchema>;

export function parseVoucherHeader(value: string): VoucherHeader {
  if (value.length > MAX_HEADER_LENGTH || !/^[A-Za-z0-9_-]+={0,2}$/.test(value)) {
    throw new GatewayError("bad_voucher", "not base64url");
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(value, "base64url").toString("utf8"));
  } catch {
    throw new GatewayError("bad_voucher", "not JSON");
  }
  const parsed = voucherHeaderSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new GatewayError("bad_voucher", `${issue?.path.join(".") || "voucher"}: ${issue?.message ?? "invalid"}`);
  }
  return parsed.data;
}
