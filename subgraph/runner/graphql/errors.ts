/**
 * Query errors in graph-node's wording (graph/src/data/query/error.rs), thrown as GraphQLError so
 * that yoga passes the message through instead of masking it.
 */
import { GraphQLError } from "graphql";

export class QueryError extends GraphQLError {}

export function valueParseError(what: string, detail: string): QueryError {
  return new QueryError(`Failed to decode \`${what}\` value: \`${detail}\``);
}

export function rangeError(argument: "first" | "skip", max: number, actual: number): QueryError {
  return new QueryError(`The \`${argument}\` argument must be between 0 and ${max}, but is ${actual}`);
}

export function notIndexedYet(deployment: string, latest: number, requested: number): string {
  return `subgraph ${deployment} has only indexed up to block number ${latest} and data for block number ${requested} is therefore not yet available`;
}

export const invalidFilter = (): QueryError => new QueryError("Filter must by an object");
