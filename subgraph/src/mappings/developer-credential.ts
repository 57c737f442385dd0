import {
  AuthorityUpdated,
  CredentialIssued,
  CredentialRevoked,
  DelegateChanged,
  DelegateVotesChanged,
  MinApiAgeUpdated,
} from "../../generated/DeveloperCredential/DeveloperCredential";
import { Credential } from "../../generated/schema";
import { setAuthority } from "../shared/contracts";
import { changeDelegate, setVotes } from "../shared/governance";
import { getProtocol } from "../shared/protocol";

const CONTRACT = "DeveloperCredential";
/** Credentials are the Developer DAO's votes source. */
const DAO = "Developer";

export function handleCredentialIssued(event: CredentialIssued): void {
  const p = event.params;
  const credential = new Credential(p.tokenId.toString());
  credential.tokenId = p.tokenId;
  credential.holder = p.holder;
  // apiId 0: issued by the Protocol DAO rather than earned with an API.
  credential.api = p.apiId.isZero() ? null : p.apiId.toString();
  credential.issuedAt = event.block.timestamp;
  credential.revoked = false;
  credential.save();

  const protocol = getProtocol();
  protocol.credentialCount = protocol.credentialCount + 1;
  protocol.save();
}

export function handleCredentialRevoked(event: CredentialRevoked): void {
  const id = event.params.tokenId.toString();
  const credential = Credential.load(id);
  if (credential == null) throw new Error("Credential " + id + " is not indexed");
  credential.revoked = true;
  credential.revokedAt = event.block.timestamp;
  credential.save();

  const protocol = getProtocol();
  protocol.credentialCount = protocol.credentialCount - 1;
  protocol.save();
}

export function handleMinApiAgeUpdated(event: MinApiAgeUpdated): void {
  const protocol = getProtocol();
  protocol.credentialMinApiAge = event.params.minApiAge;
  protocol.save();
}

export function handleDelegateChanged(event: DelegateChanged): void {
  const p = event.params;
  changeDelegate(DAO, p.delegator, p.fromDelegate, p.toDelegate, event.block.timestamp);
}

export function handleDelegateVotesChanged(event: DelegateVotesChanged): void {
  setVotes(DAO, event.params.delegate, event.params.newVotes);
}

export function handleAuthorityUpdated(event: AuthorityUpdated): void {
  setAuthority(CONTRACT, event, event.params.authority);
}
