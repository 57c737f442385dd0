/** The commit of AccessGroups' commit-reveal slash. */
import { AbiCoder, keccak256 } from "ethers";

/** keccak256(abi.encode(slasher, apiId, secret)): what `commitSlash` takes. */
export function slashDigest(slasher: string, apiId: bigint, secret: bigint): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode(["address", "uint256", "uint256"], [slasher, apiId, secret]));
}
