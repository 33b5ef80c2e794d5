/**
 * The governance report at synth (issue 7): one construct per app (or stage)
 * that every governed agent registers with. It fails synth on compliance
 * violations and writes the report into the cloud assembly.
 */
import * as fs from 'fs';
import * as path from 'path';
import { attachCustomSynthesis, Stage } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import {
  AgentModel,
  buildGovernanceReport,
  GovernanceReport,
  renderReportJson,
  renderReportMarkdown,
  REPORT_JSON_FILE,
  REPORT_MARKDOWN_FILE,
} from '../analysis';
import { collectStores, StoreLinker } from './governance-model';

/** What the report needs from a governed agent. */
export interface GovernedAgentSource extends IConstruct {
  readonly agentId: string;
  /** The agent's analysis model, its resources linked to stores with `link`. */
  _analysisModel(link: StoreLinker): AgentModel;
}

/** Id of the report construct under the app or stage. */
export const GOVERNANCE_REPORT_ID = 'PermissionDecayGovernance';

export class GovernanceReportEmitter extends Construct {
  /** The report construct of the stage `scope` is in, created on first use. */
  public static of(scope: IConstruct): GovernanceReportEmitter {
    const stage: IConstruct = Stage.of(scope) ?? scope.node.root;
    const existing = stage.node.tryFindChild(GOVERNANCE_REPORT_ID);
    if (existing instanceof GovernanceReportEmitter) return existing;
    if (existing)
      throw new Error(
        `${stage.node.path || 'the app'} already has a child named ${GOVERNANCE_REPORT_ID} that is not the permission-decay report: rename it`,
      );
    return new GovernanceReportEmitter(stage, GOVERNANCE_REPORT_ID);
  }

  private readonly agents: GovernedAgentSource[] = [];
  /** The report computed by this synth's validation, reused when the assembly is written. */
  private pending?: GovernanceReport;

  private constructor(
    private readonly stage: IConstruct,
    id: string,
  ) {
    super(stage, id);
    this.node.addValidation({ validate: () => this.validate() });
    attachCustomSynthesis(this, {
      onSynthesize: session => {
        const report = this.pending ?? this.report();
        this.pending = undefined;
        fs.writeFileSync(path.join(session.outdir, REPORT_JSON_FILE), renderReportJson(report));
        fs.writeFileSync(path.join(session.outdir, REPORT_MARKDOWN_FILE), renderReportMarkdown(report));
      },
    });
  }

  public register(agent: GovernedAgentSource): void {
    this.agents.push(agent);
  }

  /** The report of every registered agent and every store in the stage. */
  public report(): GovernanceReport {
    const { stores, link } = collectStores(this.stage);
    const agents = this.agents.map(a => a._analysisModel(link));
    return buildGovernanceReport(agents, stores);
  }

  private validate(): string[] {
    const report = this.report();
    this.pending = report;
    return report.compliance.violations.map(v => `GovernedAgentRole '${v.agentId}': ${v.message}`);
  }
}
