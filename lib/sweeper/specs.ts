/** Read: the approved specs, one GetParametersByPath walk over SPEC_PARAMETER_PREFIX. */
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AgentSpec, ContractError, parseAgentSpec, SPEC_PARAMETER_PREFIX, specParameterName } from '../contract';
import { SweepError } from './errors';

/** An agent's approved spec, or why it cannot be used. */
export interface SpecLookup {
  readonly spec?: AgentSpec;
  readonly error?: SweepError;
}

/** agentId -> spec or error. A missing agent id is simply absent. */
export type SpecIndex = ReadonlyMap<string, SpecLookup>;

export async function readSpecs(ssm: SSMClient): Promise<SpecIndex> {
  const out = new Map<string, SpecLookup>();
  for (const [agentId, value] of await readSpecTexts(ssm)) out.set(agentId, parseSpecParameter(agentId, specParameterName(agentId), value));
  return out;
}

/** agentId -> the spec parameter's value, as stored. */
export async function readSpecTexts(ssm: SSMClient): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let token: string | undefined;
  do {
    const page = await ssm.send(
      new GetParametersByPathCommand({
        Path: SPEC_PARAMETER_PREFIX.replace(/\/$/, ''),
        Recursive: true,
        NextToken: token,
      }),
    );
    for (const p of page.Parameters ?? []) {
      if (!p.Name || !p.Name.startsWith(SPEC_PARAMETER_PREFIX)) continue;
      out.set(p.Name.slice(SPEC_PARAMETER_PREFIX.length), p.Value ?? '');
    }
    token = page.NextToken;
  } while (token);
  return out;
}

export function parseSpecParameter(agentId: string, name: string, value: string): SpecLookup {
  try {
    const spec = parseAgentSpec(value, name);
    if (spec.agentId !== agentId) {
      return { error: { code: 'BAD_SPEC', message: `spec ${name} names agent "${spec.agentId}", not "${agentId}": fix the parameter` } };
    }
    return { spec };
  } catch (e) {
    const code = e instanceof ContractError ? e.code : 'BAD_SPEC';
    return { error: { code, message: (e as Error).message } };
  }
}
