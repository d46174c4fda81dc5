/**
 * A Kysely plugin that sends every statement aimed at the `readmodels` schema to another schema: the blue/green
 * rebuild runs the very same Projection classes and migrations against a build schema through it.
 */
import {
  IdentifierNode,
  OperationNodeTransformer,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryId,
  type QueryResult,
  type RootOperationNode,
  type SchemableIdentifierNode,
  type UnknownRow,
} from 'kysely';

class RedirectTransformer extends OperationNodeTransformer {
  constructor(
    private readonly from: string | null,
    private readonly to: string,
  ) {
    super();
  }

  protected override transformSchemableIdentifier(node: SchemableIdentifierNode, queryId?: QueryId): SchemableIdentifierNode {
    const t = super.transformSchemableIdentifier(node, queryId);
    if (!t.schema) return t;
    return this.from === null || t.schema.name === this.from ? { ...t, schema: IdentifierNode.create(this.to) } : t;
  }
}

/**
 * Rewrites schema-qualified table references `from.x` to `to.x` in builder queries, schema (DDL) queries and in the
 * `sql.table()` / `sql.ref()` parameters of raw `sql` fragments. Combine with `withSchema(from)` (which Kysely
 * always runs first) so that unqualified builder tables are redirected too. Literal SQL text is NOT rewritten:
 * projections must name tables through Kysely (see `Projection.tables`).
 */
export class SchemaRedirectPlugin implements KyselyPlugin {
  private readonly transformer: RedirectTransformer;

  /**
   * @param from schema to replace (e.g. `readmodels`), or null for every schema (the rebuild replays ALL read-model
   *   migrations into its build schema this way, including tables other schemas hold, e.g. `integrations`).
   * @param to replacement schema (e.g. `readmodels_build_all`).
   */
  constructor(from: string | null, to: string) {
    this.transformer = new RedirectTransformer(from, to);
  }

  /** See KyselyPlugin. */
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.transformer.transformNode(args.node, args.queryId);
  }

  /** See KyselyPlugin: results pass through. */
  transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return Promise.resolve(args.result);
  }
}
