/**
 * Event signatures as graph-node matches logs against them (`Deposited(indexed bytes32,uint256)`),
 * from ABI JSON: shared by the manifest generator, its check and the local runner.
 */
export interface AbiParam {
  name: string;
  type: string;
  indexed?: boolean | undefined;
  components?: AbiParam[] | undefined;
}

export interface AbiEvent {
  type: "event";
  name: string;
  inputs: AbiParam[];
  anonymous: boolean;
}

function signatureParam(param: AbiParam, top: boolean): string {
  const indexed = top && param.indexed === true ? "indexed " : "";
  // Tuples (and arrays of them) spell out their components: "(uint128,uint16)[]".
  if (param.type.startsWith("tuple")) {
    const components = (param.components ?? []).map((c) => signatureParam(c, false)).join(",");
    return `${indexed}(${components})${param.type.slice("tuple".length)}`;
  }
  return `${indexed}${param.type}`;
}

/** The signature graph-node matches a log against, e.g. `Deposited(indexed bytes32,indexed address,...)`. */
export function eventSignature(event: AbiEvent): string {
  return `${event.name}(${event.inputs.map((p) => signatureParam(p, true)).join(",")})`;
}
