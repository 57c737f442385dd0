/**
 * The request hash `x`, the public signal that binds an access proof to one HTTP request on one
 * node: a proof made for one request is worthless for any other. Client and relayer compute it
 * independently; the relayer must never take it from the client.
 *
 * x = uint256(keccak256(abi.encode(
 *       keccak256("meshgate.access.request.v1"), chainId, node, METHOD, target, keccak256(body)
 *     ))) mod r
 * with METHOD upper-case and `target` the request target exactly as sent to the node (path and
 * query string, e.g. "/1/v1/weather?city=Paris").
 */
import { AbiCoder, getAddress, keccak256, toUtf8Bytes } from "ethers";
import { mod } from "./field.js";

export interface AccessRequest {
  chainId: bigint;
  /** The serving node's staked address. */
  node: string;
  method: string;
  /** Path and query string as sent on the wire; starts with "/". */
  target: string;
  body: Uint8Array;
}

const DOMAIN_TAG = keccak256(toUtf8Bytes("meshgate.access.request.v1"));

export function requestHash(req: AccessRequest): bigint {
  if (!req.target.startsWith("/")) throw new RangeError(`request target must start with "/": ${req.target}`);
  const encoded = AbiCoder.defaultAbiCoder().encode(
    ["bytes32", "uint256", "address", "string", "string", "bytes32"],
    [DOMAIN_TAG, req.chainId, getAddress(req.node), req.method.toUpperCase(), req.target, keccak256(req.body)],
  );
  return mod(BigInt(keccak256(encoded)));
}
