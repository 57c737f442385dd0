import { BigInt } from "@graphprotocol/graph-ts";
import { RoleGranted, RoleLabel, RoleRevoked } from "../../generated/AccessManager/AccessManager";
import { Role, RoleMember } from "../../generated/schema";
import { joinId } from "../shared/ids";

function getRole(roleId: BigInt): Role {
  const id = roleId.toString();
  let role = Role.load(id);
  if (role != null) return role;
  role = new Role(id);
  role.roleId = roleId;
  role.memberCount = 0;
  return role;
}

export function handleRoleLabel(event: RoleLabel): void {
  const role = getRole(event.params.roleId);
  role.label = event.params.label;
  role.save();
}

export function handleRoleGranted(event: RoleGranted): void {
  const p = event.params;
  const role = getRole(p.roleId);
  const id = joinId(role.id, p.account.toHexString());
  let member = RoleMember.load(id);
  if (member == null) {
    member = new RoleMember(id);
    member.role = role.id;
    member.account = p.account;
  }
  // A grant to a current member only changes its execution delay: its `since` is then when the
  // new delay takes effect (IAccessManager.RoleGranted), not when the membership did, so the
  // membership keeps the `since` of the grant that made it a member.
  if (p.newMember) {
    member.grantedAt = event.block.timestamp;
    member.revokedAt = null;
    member.since = p.since;
    role.memberCount = role.memberCount + 1;
  }
  member.active = true;
  member.executionDelay = p.delay;
  member.save();
  role.save();
}

export function handleRoleRevoked(event: RoleRevoked): void {
  const role = getRole(event.params.roleId);
  const id = joinId(role.id, event.params.account.toHexString());
  const member = RoleMember.load(id);
  if (member == null) throw new Error("RoleMember " + id + " is not indexed");
  member.active = false;
  member.revokedAt = event.block.timestamp;
  member.save();
  role.memberCount = role.memberCount - 1;
  role.save();
}
