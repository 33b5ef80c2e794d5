/**
 * Tampering with governance tags, and foreign markers: the marker, agent and
 * owner tags a governed role must carry (put back when taken), and roles
 * outside the governed path that claim governance (recorded, never changed).
 */
import {
  AgentSpec,
  GOVERNED_ROLE_PATH,
  LedgerRoleState,
  MANAGED_BY_VALUE,
  TAG_AGENT,
  TAG_GRANT_PREFIX,
  TAG_MANAGED_BY,
  TAG_OWNER,
} from '../../contract';
import { sha256 } from '../../contract';
import { IamAction, PlanStep, RolePlan } from '../plan';
import { ForeignMarkedRole, GovernedRole } from '../snapshot';

/** The governance tags of a role (marker, agent, owner and grant tags), the claim a foreign marker makes. */
function governanceTagsOf(tags: { readonly [key: string]: string }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(tags).sort()) {
    const governance = key === TAG_MANAGED_BY || key === TAG_AGENT || key === TAG_OWNER || key.toLowerCase().startsWith(TAG_GRANT_PREFIX);
    if (governance) out[key] = tags[key];
  }
  return out;
}

/**
 * A role outside the governed path that carries governance tags: anyone who may
 * tag a role can make that claim, so it gives the sweeper no right to change the
 * role. Recorded (with an event) once per distinct set of tags, and never changed.
 */
export function decideForeignMarker(role: ForeignMarkedRole, state: LedgerRoleState): RolePlan {
  const governanceTags = governanceTagsOf(role.tags);
  const marker = sha256(`${role.path}\n${JSON.stringify(governanceTags)}`);
  if (state.foreignMarker === marker) return { roleName: role.roleName, steps: [] };
  const claimed = role.tags[TAG_AGENT] !== undefined ? ` claiming agent ${role.tags[TAG_AGENT]}` : '';
  return {
    roleName: role.roleName,
    steps: [
      {
        roleName: role.roleName,
        actions: [],
        record: {
          decision: 'foreign-marker',
          governanceTags,
          message:
            `role ${role.roleName} (path ${role.path})${claimed} carries governance tags but is not under the governed path ` +
            `${GOVERNED_ROLE_PATH}: the sweeper does not govern it and changed nothing; ` +
            'remove the tags, or recreate the role with GovernedAgentRole',
        },
        memory: { foreignMarker: marker },
      },
    ],
  };
}

/**
 * The governance tags a governed role must carry: the marker always, the agent
 * and owner from the approved spec. A missing or changed one was taken by
 * someone, not by a deploy (CloudFormation writes them with the spec).
 */
export function governanceTagSteps(role: GovernedRole, spec: AgentSpec | undefined): PlanStep[] {
  const expected: [string, string][] = [[TAG_MANAGED_BY, MANAGED_BY_VALUE]];
  if (spec) expected.push([TAG_AGENT, spec.agentId], [TAG_OWNER, spec.owner]);
  const wrong = expected.filter(([key, value]) => role.tags[key] !== value);
  if (wrong.length === 0) return [];
  const found = governanceTagsOf(role.tags);
  const described = wrong
    .map(([key, value]) => {
      const what = role.tags[key] === undefined ? `${key} was removed` : `${key} was changed to "${role.tags[key]}"`;
      return `${what} (put back: ${value})`;
    })
    .join('; ');
  return [
    {
      roleName: role.roleName,
      actions: wrong.map(([key, value]): IamAction => ({ type: 'tag', key, value })),
      record: {
        decision: 'tampering',
        governanceTags: found,
        message: `governed role ${role.roleName}: ${described}; the role stays governed by its path ${GOVERNED_ROLE_PATH}`,
      },
    },
  ];
}
