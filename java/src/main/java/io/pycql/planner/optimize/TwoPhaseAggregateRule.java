package io.pycql.planner.optimize;

import io.pycql.planner.rel.CqlExchange;
import io.pycql.planner.rel.CqlWindow;
import io.pycql.planner.rel.WindowSpec;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import org.apache.calcite.plan.RelOptUtil;
import org.apache.calcite.rel.RelCollations;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.rel.core.Aggregate;
import org.apache.calcite.rel.core.AggregateCall;
import org.apache.calcite.rel.logical.LogicalAggregate;
import org.apache.calcite.rel.logical.LogicalProject;
import org.apache.calcite.rel.type.RelDataType;
import org.apache.calcite.rel.type.RelDataTypeField;
import org.apache.calcite.rex.RexBuilder;
import org.apache.calcite.rex.RexNode;
import org.apache.calcite.sql.SqlAggFunction;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.fun.SqlStdOperatorTable;
import org.apache.calcite.sql.type.SqlTypeName;
import org.apache.calcite.util.ImmutableBitSet;

/**
 * Two-phase aggregation across an exchange (Flink's local-global aggregation): a pass run
 * after {@link ExchangeRule} that splits an aggregate sitting above an exchange into a
 * partial aggregate below the exchange, in the tasks that write it, and a final aggregate
 * above it over the partials (a relation with +/- changes, like any other).
 *
 * <p>It matches {@code Aggregate(Exchange(x))} and {@code Aggregate(Window(Exchange(x)))}
 * with a window defined by time ({@code NOW}, {@code RANGE}, {@code UNBOUNDED}: its
 * relation is the union of the per-task windows), where the exchange sends every row to
 * one task or hashes on group columns only (so the partials of a group meet in one task),
 * and every call decomposes (the group keys stay the same in both phases):
 *
 * <table>
 * <caption>partial state and final call per function</caption>
 * <tr><th>call</th><th>partial</th><th>final</th></tr>
 * <tr><td>{@code COUNT(*)}, {@code COUNT(x)}</td><td>the same</td><td>{@code SUM0}</td></tr>
 * <tr><td>{@code SUM(x)}</td><td>{@code SUM(x)}</td><td>{@code SUM}: NULL partial sums
 *   are skipped, so the result is NULL exactly when every value was</td></tr>
 * <tr><td>{@code SUM0(x)}</td><td>{@code SUM0(x)}</td><td>{@code SUM0}</td></tr>
 * <tr><td>{@code MIN}, {@code MAX} (DISTINCT or not)</td><td>the same</td><td>the same
 *   (the runtime's MIN/MAX keep their values, so a retracted partial is forgotten)</td></tr>
 * <tr><td>{@code AVG(x)} (a DOUBLE)</td><td>{@code SUM(x)}, {@code COUNT(x)}</td>
 *   <td>{@code SUM}, {@code SUM0}, then a project: NULL when the count is 0, else
 *   {@code CAST(sum AS DOUBLE) / count}</td></tr>
 * </table>
 *
 * <p>A {@code FILTER (WHERE ...)} stays on the partial call. Any other call ({@code
 * COUNT(DISTINCT)}, {@code SUM(DISTINCT)}, {@code LISTAGG}, the variances, {@code
 * GROUPING}), grouping sets, or an exchange on a column that is not a group key: no split.
 * DISTINCT (group keys, no calls) splits into two DISTINCTs.
 *
 * <p><b>Where it pays.</b> The aggregate's changes are consolidated per instant: a partial
 * sends at most a retraction and an insertion per group and instant, where without it the
 * exchange carries each element once. So the rule fires
 *
 * <ul>
 * <li>for every ungrouped aggregate over a partitioned input (a {@code single} exchange):
 *   without partials one task keeps the whole window of all partitions and updates the
 *   aggregate for every element; with them the N upstream tasks share that work and the
 *   single task keeps one row per task;</li>
 * <li>for a grouped aggregate whose input is a sliding window ({@code RANGE r SLIDE s}):
 *   its relation changes once a slide, so a task sends at most two changes per group
 *   per slide instead of every element.</li>
 * </ul>
 *
 * <p>A grouped aggregate over an unslid window ({@code NOW}, {@code RANGE}, {@code
 * UNBOUNDED}) or over another relation is left alone: its input changes at each element's
 * instant, and the partial's pair of changes per change would at worst double (with
 * expiries quadruple) what the exchange carries. Disabled by {@code disabled_rules:
 * ["TwoPhaseAggregateRule"]} (and with {@code ExchangeRule}: no exchange, nothing to split).
 *
 * <pre>
 * SELECT COUNT(*), AVG(qty) FROM Orders [RANGE 10 SECONDS]        (Orders: 6 partitions)
 *   Aggregate(group={}, COUNT(), AVG($2))     Project(n=$0, avg=CASE(=($2, 0), null, /($1, $2)))
 *     Window(RANGE 10 s)              ==&gt;       Aggregate(group={}, SUM0($0), SUM($1), SUM0($2))
 *       Exchange(single)                          Exchange(single)
 *         Source(Orders)                            Aggregate(group={}, COUNT(), SUM($2), COUNT($2))
 *                                                     Window(RANGE 10 s)
 *                                                       Source(Orders)
 * </pre>
 */
public final class TwoPhaseAggregateRule {
  private final IdentityHashMap<RelNode, RelNode> done = new IdentityHashMap<>();

  private TwoPhaseAggregateRule() {
  }

  /** Returns {@code root} with each aggregate the rule matches in two phases. */
  public static RelNode apply(RelNode root) {
    return new TwoPhaseAggregateRule().visit(root);
  }

  private RelNode visit(RelNode rel) {
    RelNode cached = done.get(rel);
    if (cached != null) {
      return cached;
    }
    List<RelNode> inputs = new ArrayList<>();
    boolean changed = false;
    for (RelNode input : rel.getInputs()) {
      RelNode visited = visit(input);
      changed |= visited != input;
      inputs.add(visited);
    }
    RelNode result = changed ? rel.copy(rel.getTraitSet(), inputs) : rel;
    if (result instanceof Aggregate a) {
      RelNode split = split(a);
      if (split != null) {
        result = split;
      }
    }
    done.put(rel, result);
    return result;
  }

  /** The aggregate in two phases, or null where the rule does not fire. */
  static RelNode split(Aggregate a) {
    if (a.getGroupType() != Aggregate.Group.SIMPLE) {
      return null;
    }
    CqlExchange exchange;
    RelNode aggregated;  // the relation the aggregate reads, below its exchange
    if (a.getInput() instanceof CqlExchange e) {
      exchange = e;
      aggregated = e.getInput();
    } else if (a.getInput() instanceof CqlWindow w && partitionWise(w.spec)
        && w.getInput() instanceof CqlExchange e) {
      exchange = e;
      aggregated = w.copy(w.getTraitSet(), List.of(e.getInput()));
    } else {
      return null;
    }
    if (!pays(exchange, aggregated)) {
      return null;
    }
    List<Integer> group = a.getGroupSet().asList();
    List<Integer> keys = new ArrayList<>();
    for (int k : exchange.keys) {
      int at = group.indexOf(k);
      if (at < 0) {
        return null;
      }
      keys.add(at);
    }
    Phases phases = new Phases(a, aggregated);
    for (AggregateCall call : a.getAggCallList()) {
      if (!phases.add(call)) {
        return null;
      }
    }
    RelNode partial = LogicalAggregate.create(aggregated, List.of(), a.getGroupSet(), null,
        phases.partial);
    RelNode moved = exchange.isSingle() ? CqlExchange.single(partial)
        : CqlExchange.hash(partial, keys, exchange.partitions);
    RelNode last = LogicalAggregate.create(moved, List.of(),
        ImmutableBitSet.range(group.size()), null, phases.finals(moved));
    return phases.restore(last);
  }

  /** Windows whose relation is the union of the windows of any split of their stream. */
  private static boolean partitionWise(WindowSpec spec) {
    return spec.isTimeBased();
  }

  private static boolean pays(CqlExchange exchange, RelNode aggregated) {
    if (exchange.isSingle()) {
      return true;
    }
    return aggregated instanceof CqlWindow w && w.spec.kind == WindowSpec.Kind.RANGE
        && w.spec.slideMillis != null;
  }

  /** The calls of both phases, and how each original column is made of the final ones. */
  private static final class Phases {
    private final Aggregate original;
    private final RelNode input;
    private final int groups;
    final List<AggregateCall> partial = new ArrayList<>();
    /** Per partial call: the final function and type (null: infer). */
    private final List<SqlAggFunction> finalFns = new ArrayList<>();
    private final List<RelDataType> finalTypes = new ArrayList<>();
    /** Per original call: its final call, or for AVG the final SUM's and COUNT's. */
    private final List<int[]> sources = new ArrayList<>();

    Phases(Aggregate original, RelNode input) {
      this.original = original;
      this.input = input;
      this.groups = original.getGroupCount();
    }

    /** Adds {@code call}'s phases; false if it does not decompose. */
    boolean add(AggregateCall call) {
      SqlKind kind = call.getAggregation().getKind();
      switch (kind) {
      case COUNT, SUM, SUM0 -> {
        if (call.isDistinct()) {
          return false;
        }
        sources.add(new int[] {phase(call, kind == SqlKind.SUM ? SqlStdOperatorTable.SUM
            : SqlStdOperatorTable.SUM0, call.getType())});
        return true;
      }
      case MIN, MAX -> {
        sources.add(new int[] {phase(call, call.getAggregation(), call.getType())});
        return true;
      }
      case AVG -> {
        SqlTypeName type = call.getType().getSqlTypeName();
        if (call.isDistinct() || (type != SqlTypeName.DOUBLE && type != SqlTypeName.FLOAT)) {
          return false;
        }
        String name = call.getName() == null ? "avg" : call.getName();
        int sum = phase(partialCall(SqlStdOperatorTable.SUM, call, name + "_sum"),
            SqlStdOperatorTable.SUM, null);
        int count = phase(partialCall(SqlStdOperatorTable.COUNT, call, name + "_count"),
            SqlStdOperatorTable.SUM0, null);
        sources.add(new int[] {sum, count});
        return true;
      }
      default -> {
        return false;
      }
      }
    }

    /**
     * The index of the partial call {@code call} finished by {@code fn}: of an equal one
     * added before (AVG(x) beside SUM(x) or COUNT(x) shares its state), else a new one.
     */
    private int phase(AggregateCall call, SqlAggFunction fn, RelDataType type) {
      for (int i = 0; i < partial.size(); i++) {
        AggregateCall p = partial.get(i);
        if (p.getAggregation().getKind() == call.getAggregation().getKind()
            && p.getArgList().equals(call.getArgList()) && p.filterArg == call.filterArg
            && p.isDistinct() == call.isDistinct() && finalFns.get(i) == fn
            && (finalTypes.get(i) == null || type == null || finalTypes.get(i).equals(type))) {
          return i;
        }
      }
      partial.add(call);
      finalFns.add(fn);
      finalTypes.add(type);
      return partial.size() - 1;
    }

    private AggregateCall partialCall(SqlAggFunction fn, AggregateCall of, String name) {
      return AggregateCall.create(fn, false, false, false, List.of(), of.getArgList(),
          of.filterArg, null, RelCollations.EMPTY, groups, input, null, name);
    }

    /** The final calls over {@code moved} (the exchanged partials). */
    List<AggregateCall> finals(RelNode moved) {
      List<AggregateCall> calls = new ArrayList<>();
      List<String> names = moved.getRowType().getFieldNames();
      for (int i = 0; i < partial.size(); i++) {
        int column = groups + i;
        calls.add(AggregateCall.create(finalFns.get(i), false, false, false, List.of(),
            List.of(column), -1, null, RelCollations.EMPTY, groups, moved, finalTypes.get(i),
            names.get(column)));
      }
      return calls;
    }

    /**
     * {@code last} (the final aggregate) with the original's row type: each AVG from its
     * sum and count, and the original's names and types, where they differ.
     */
    RelNode restore(RelNode last) {
      RelDataType want = original.getRowType();
      if (RelOptUtil.areRowTypesEqual(last.getRowType(), want, true)) {
        return last;
      }
      RexBuilder rex = last.getCluster().getRexBuilder();
      List<RexNode> exprs = new ArrayList<>();
      List<RelDataTypeField> fields = want.getFieldList();
      for (int i = 0; i < groups; i++) {
        exprs.add(rex.makeInputRef(last, i));
      }
      List<AggregateCall> calls = original.getAggCallList();
      for (int c = 0; c < calls.size(); c++) {
        RelDataType type = fields.get(groups + c).getType();
        int[] at = sources.get(c);
        RexNode value = rex.makeInputRef(last, groups + at[0]);
        if (at.length == 2) {  // AVG
          RexNode count = rex.makeInputRef(last, groups + at[1]);
          RexNode quotient = rex.makeCall(SqlStdOperatorTable.DIVIDE,
              rex.makeCast(rex.getTypeFactory().createTypeWithNullability(type, true), value),
              rex.makeCast(rex.getTypeFactory().createTypeWithNullability(type, false), count));
          value = rex.makeCall(type, SqlStdOperatorTable.CASE, List.of(
              rex.makeCall(SqlStdOperatorTable.EQUALS, count, rex.makeZeroLiteral(
                  count.getType())),
              rex.makeNullLiteral(type), quotient));
        }
        exprs.add(value.getType().equals(type) ? value : rex.makeCast(type, value, true, false));
      }
      return LogicalProject.create(last, List.of(), exprs, want.getFieldNames(),
          java.util.Set.of());
    }
  }
}
