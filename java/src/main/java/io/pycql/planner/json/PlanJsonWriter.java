package io.pycql.planner.json;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pycql.planner.catalog.CqlSourceTable;
import io.pycql.planner.rel.CqlExchange;
import io.pycql.planner.rel.CqlStreamFilter;
import io.pycql.planner.rel.CqlTopN;
import io.pycql.planner.rel.CqlWindow;
import io.pycql.planner.rel.WindowSpec;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.calcite.rel.RelFieldCollation;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.rel.core.Aggregate;
import org.apache.calcite.rel.core.AggregateCall;
import org.apache.calcite.rel.core.Filter;
import org.apache.calcite.rel.core.Join;
import org.apache.calcite.rel.core.JoinInfo;
import org.apache.calcite.rel.core.Project;
import org.apache.calcite.rel.core.SetOp;
import org.apache.calcite.rel.core.Sort;
import org.apache.calcite.rel.core.TableScan;
import org.apache.calcite.rel.core.Values;
import org.apache.calcite.rel.core.Window;
import org.apache.calcite.rel.RelCollation;
import org.apache.calcite.rex.RexWindowBound;
import org.apache.calcite.rel.type.RelDataType;
import org.apache.calcite.rel.type.RelDataTypeField;
import org.apache.calcite.rex.RexLiteral;
import org.apache.calcite.rex.RexNode;
import org.apache.calcite.sql.SqlKind;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Writes an optimized plan as the JSON document of docs/plan-json.md.
 *
 * <pre>{@code
 * ObjectNode plan = PlanJsonWriter.write(CqlOptimizer.optimize(logical, Set.of()),
 *     "SELECT ISTREAM(*) FROM S [RANGE 30 SECONDS] WHERE speed > 65", "out", List.of(), true);
 * plan.get("root").asInt();   // id of the istream operator
 * }</pre>
 */
public final class PlanJsonWriter {
  /** The schema version written in {@code pycql_plan}. */
  public static final int VERSION = 1;

  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private PlanJsonWriter() {
  }

  /**
   * The plan document of {@code physical}.
   *
   * @param sql the statement's text, written as {@code sql}
   * @param outputTopic the topic the root writes to, or null
   * @param params the dynamic parameters ({@code {"index": 0, "type": "INTEGER"}}, ...)
   * @param streamResult whether the query is stream-valued ({@code result.kind})
   */
  public static ObjectNode write(RelNode physical, String sql, @Nullable String outputTopic,
      List<Map<String, Object>> params, boolean streamResult) {
    PlanGraph graph = new PlanGraph(physical);
    ObjectNode doc = F.objectNode();
    doc.put("pycql_plan", VERSION);
    doc.put("sql", sql);
    ObjectNode result = doc.putObject("result");
    result.put("kind", streamResult ? "stream" : "relation");
    result.set("columns", columns(graph.root.getRowType()));
    doc.set("params", MAPPER.valueToTree(params));
    doc.put("root", graph.id(graph.root));
    Stages stages = new Stages(graph, outputTopic);
    ArrayNode operators = doc.putArray("operators");
    for (RelNode rel : graph.order) {
      String writes = rel == graph.root ? outputTopic
          : rel instanceof CqlExchange e ? stages.topic(e) : null;
      operators.add(operator(graph, rel, writes));
    }
    doc.set("stages", stages(stages));
    return doc;
  }

  private static ArrayNode stages(Stages stages) {
    ArrayNode list = F.arrayNode();
    for (Stages.Stage s : stages.stages) {
      ObjectNode o = list.addObject();
      o.put("id", s.id);
      o.put("tasks", s.tasks);
      ArrayNode ops = o.putArray("operators");
      s.operators.forEach(ops::add);
      ArrayNode reads = o.putArray("reads");
      s.reads.forEach(reads::add);
      ArrayNode upstream = o.putArray("upstream");
      s.upstream.forEach(upstream::add);
      ArrayNode writes = o.putArray("writes");
      s.writes.forEach(writes::add);
    }
    return list;
  }

  /** The columns of a row type: name, type, nullable, precision and scale. */
  public static ArrayNode columns(RelDataType rowType) {
    ArrayNode columns = F.arrayNode();
    for (RelDataTypeField field : rowType.getFieldList()) {
      ObjectNode c = columns.addObject();
      c.put("name", field.getName());
      RexJson.putType(c, field.getType());
    }
    return columns;
  }

  private static ObjectNode operator(PlanGraph graph, RelNode rel, @Nullable String writes) {
    ObjectNode o = F.objectNode();
    o.put("id", graph.id(rel));
    o.put("op", Operators.opName(rel));
    ArrayNode inputs = o.putArray("inputs");
    for (RelNode input : rel.getInputs()) {
      inputs.add(graph.id(input));
    }
    o.set("columns", columns(rel.getRowType()));
    o.put("output", Operators.isStream(rel) ? "stream" : "relation");
    o.set("state", state(Operators.state(rel)));
    ArrayNode reads = o.putArray("reads");
    o.putArray("writes");
    if (writes != null) {
      ((ArrayNode) o.get("writes")).add(writes);
    }
    if (rel instanceof TableScan scan) {
      CqlSourceTable source = Operators.source(scan);
      reads.add(source.topic());
      o.put("name", source.name());
      o.put("source_kind", source.isStream() ? "stream" : "table");
      o.put("topic", source.topic());
      o.put("timestamp", source.timestampColumn());
      o.put("format", source.format());
      ArrayNode primaryKey = o.putArray("primary_key");
      source.primaryKey().forEach(primaryKey::add);
      o.put("partitions", source.partitions());
      ArrayNode partitionKey = o.putArray("partition_key");
      source.partitionKey().forEach(partitionKey::add);
    } else if (rel instanceof CqlExchange e) {
      o.put("distribution", e.isSingle() ? "single" : "hash");
      ArrayNode keys = o.putArray("keys");
      e.keys.forEach(keys::add);
      o.put("partitions", e.partitions);
      o.put("topic", writes);
    } else if (rel instanceof CqlWindow w) {
      o.set("window", window(w.spec));
    } else if (rel instanceof CqlStreamFilter f) {
      o.set("condition", f.condition == null ? F.nullNode() : RexJson.toJson(f.condition));
      o.set("exprs", exprs(f.projects));
    } else if (rel instanceof Filter f) {
      o.set("condition", RexJson.toJson(f.getCondition()));
    } else if (rel instanceof Project p) {
      o.set("exprs", exprs(p.getProjects()));
    } else if (rel instanceof Aggregate a) {
      aggregate(o, a);
    } else if (rel instanceof Join j) {
      join(o, j);
    } else if (rel instanceof SetOp s) {
      o.put("all", s.all);
    } else if (rel instanceof Values v) {
      ArrayNode rows = o.putArray("rows");
      for (List<RexLiteral> tuple : v.getTuples()) {
        rows.add(exprs(tuple));
      }
    } else if (rel instanceof Sort s) {
      sort(o, s);
    } else if (rel instanceof Window w) {
      over(o, w);
    } else if (rel instanceof CqlTopN t) {
      ArrayNode keys = o.putArray("partition_by");
      t.partitionKeys.forEach(keys::add);
      o.set("order_by", collation(t.collation));
      o.put("limit", t.limit);
      o.put("append_only", Operators.appendOnly(t.getInput()));
    }
    return o;
  }

  private static ObjectNode state(StateBound bound) {
    ObjectNode s = F.objectNode();
    s.put("kind", bound.kindName());
    if (bound.bound == null) {
      s.putNull("bound");
    } else {
      s.put("bound", bound.bound);
    }
    ArrayNode keys = s.putArray("keys");
    bound.keys.forEach(keys::add);
    return s;
  }

  private static ObjectNode window(WindowSpec spec) {
    ObjectNode w = F.objectNode();
    w.put("kind", spec.kind.name().toLowerCase(Locale.ROOT));
    switch (spec.kind) {
    case RANGE:
      w.put("range_ms", spec.rangeMillis);
      if (spec.slideMillis == null) {
        w.putNull("slide_ms");
      } else {
        w.put("slide_ms", spec.slideMillis);
      }
      break;
    case ROWS:
      w.put("rows", spec.rows);
      slideRows(w, spec);
      break;
    case PARTITION:
      ArrayNode keys = w.putArray("partition_by");
      spec.partitionKeys.forEach(keys::add);
      w.put("rows", spec.rows);
      slideRows(w, spec);
      break;
    case SESSION:
      ArrayNode sessionKeys = w.putArray("partition_by");
      spec.partitionKeys.forEach(sessionKeys::add);
      w.put("gap_ms", spec.gapMillis);
      break;
    default:
      break;
    }
    return w;
  }

  private static void slideRows(ObjectNode w, WindowSpec spec) {
    if (spec.slideRows == null) {
      w.putNull("slide_rows");
    } else {
      w.put("slide_rows", spec.slideRows);
    }
  }

  private static ArrayNode exprs(List<? extends RexNode> es) {
    ArrayNode a = F.arrayNode();
    for (RexNode e : es) {
      a.add(RexJson.toJson(e));
    }
    return a;
  }

  private static void aggregate(ObjectNode o, Aggregate a) {
    ArrayNode group = o.putArray("group");
    a.getGroupSet().forEach(group::add);
    if (a.getGroupType() != Aggregate.Group.SIMPLE) {
      // GROUPING SETS, ROLLUP, CUBE: the output has every column of "group" (NULL where a
      // set lacks it), a row per group of each set
      ArrayNode sets = o.putArray("group_sets");
      for (org.apache.calcite.util.ImmutableBitSet set : a.getGroupSets()) {
        ArrayNode columns = sets.addArray();
        set.forEach(columns::add);
      }
    }
    ArrayNode aggs = o.putArray("aggs");
    List<RelDataTypeField> fields = a.getRowType().getFieldList();
    for (int i = 0; i < a.getAggCallList().size(); i++) {
      AggregateCall call = a.getAggCallList().get(i);
      ObjectNode agg = aggs.addObject();
      SqlKind kind = call.getAggregation().getKind();
      agg.put("fn", kind == SqlKind.COUNT || kind == SqlKind.SUM || kind == SqlKind.SUM0
          || kind == SqlKind.AVG || kind == SqlKind.MIN || kind == SqlKind.MAX
          ? kind.name() : call.getAggregation().getName());
      ArrayNode args = agg.putArray("args");
      call.getArgList().forEach(args::add);
      agg.put("distinct", call.isDistinct());
      if (call.filterArg >= 0) {
        agg.put("filter", call.filterArg); // FILTER (WHERE ...): a BOOLEAN input column
      }
      if (!call.collation.getFieldCollations().isEmpty()) {
        // LISTAGG ... WITHIN GROUP (ORDER BY ...), STRING_AGG(x, sep ORDER BY ...)
        ArrayNode order = agg.putArray("order");
        for (RelFieldCollation c : call.collation.getFieldCollations()) {
          collationField(order.addObject(), c);
        }
      }
      RelDataTypeField field = fields.get(a.getGroupCount() + i);
      agg.put("name", field.getName());
      RexJson.putType(agg, field.getType());
    }
  }

  private static void join(ObjectNode o, Join j) {
    String type = j.getJoinType().name().toLowerCase(Locale.ROOT);
    if (!List.of("inner", "left", "right", "full", "semi", "anti").contains(type)) {
      throw new UnsupportedOperationException("join type " + j.getJoinType()
          + " is not supported in a continuous query");
    }
    o.put("join_type", type);
    o.set("condition", RexJson.toJson(j.getCondition()));
    JoinInfo info = JoinInfo.createWithStrictEquality(j.getLeft(), j.getRight(),
        j.getCondition());
    ArrayNode left = o.putArray("left_keys");
    info.leftKeys.forEach(left::add);
    ArrayNode right = o.putArray("right_keys");
    info.rightKeys.forEach(right::add);
    RexNode residual = info.getRemaining(j.getCluster().getRexBuilder());
    o.set("residual", residual.isAlwaysTrue() ? F.nullNode() : RexJson.toJson(residual));
    if (!(j instanceof io.pycql.planner.rel.CqlLookupJoin)) {
      ArrayNode inputStates = ((ObjectNode) o.get("state")).putArray("inputs");
      for (StateBound b : Operators.joinInputStates(j)) {
        inputStates.add(state(b));
      }
    }
  }

  /** One key of an ORDER BY: {@code field}, {@code direction}, {@code nulls}. */
  private static void collationField(ObjectNode f, RelFieldCollation c) {
    f.put("field", c.getFieldIndex());
    f.put("direction", c.getDirection().isDescending() ? "DESC" : "ASC");
    RelFieldCollation.NullDirection nulls = c.nullDirection
        == RelFieldCollation.NullDirection.UNSPECIFIED
        ? c.getDirection().defaultNullDirection() : c.nullDirection;
    f.put("nulls", nulls == RelFieldCollation.NullDirection.FIRST ? "FIRST" : "LAST");
  }

  private static void over(ObjectNode o, Window w) {
    ArrayNode groups = o.putArray("groups");
    List<RelDataTypeField> fields = w.getRowType().getFieldList();
    int field = w.getInput().getRowType().getFieldCount();
    for (Window.Group g : w.groups) {
      ObjectNode group = groups.addObject();
      ArrayNode keys = group.putArray("partition_by");
      g.keys.forEach(keys::add);
      group.set("order_by", collation(g.orderKeys));
      group.put("rows", g.isRows);
      group.put("lower", bound(g.lowerBound));
      group.put("upper", bound(g.upperBound));
      if (!g.lowerBound.isUnbounded() || !g.lowerBound.isPreceding()
          || !(g.upperBound.isCurrentRow()
              || g.upperBound.isUnbounded() && g.upperBound.isFollowing())) {
        throw new UnsupportedOperationException("the window frame " + g.lowerBound + " .. "
            + g.upperBound + " is not supported");
      }
      ArrayNode calls = group.putArray("calls");
      for (Window.RexWinAggCall call : g.aggCalls) {
        ObjectNode c = calls.addObject();
        SqlKind kind = call.getKind();
        c.put("fn", List.of(SqlKind.ROW_NUMBER, SqlKind.RANK, SqlKind.DENSE_RANK, SqlKind.COUNT,
            SqlKind.SUM, SqlKind.SUM0, SqlKind.AVG, SqlKind.MIN, SqlKind.MAX).contains(kind)
            ? kind.name() : call.getOperator().getName());
        ArrayNode args = c.putArray("args");
        for (RexNode arg : call.getOperands()) {
          if (!(arg instanceof org.apache.calcite.rex.RexInputRef ref)) {
            throw new UnsupportedOperationException("window function argument " + arg);
          }
          args.add(ref.getIndex());
        }
        c.put("distinct", call.distinct);
        RelDataTypeField out = fields.get(field++);
        c.put("name", out.getName());
        RexJson.putType(c, out.getType());
      }
    }
    o.set("constants", exprs(w.constants));
  }

  private static String bound(RexWindowBound b) {
    return b.isCurrentRow() ? "CURRENT ROW" : b.isUnbounded()
        ? (b.isPreceding() ? "UNBOUNDED PRECEDING" : "UNBOUNDED FOLLOWING") : b.toString();
  }

  private static ArrayNode collation(RelCollation rc) {
    ArrayNode collation = F.arrayNode();
    for (RelFieldCollation c : rc.getFieldCollations()) {
      collationField(collation.addObject(), c);
    }
    return collation;
  }

  private static void sort(ObjectNode o, Sort s) {
    ArrayNode collation = o.putArray("collation");
    for (RelFieldCollation c : s.getCollation().getFieldCollations()) {
      collationField(collation.addObject(), c);
    }
    Long offset = Operators.intOf(s.offset);
    Long fetch = Operators.intOf(s.fetch);
    if (offset == null) {
      o.putNull("offset");
    } else {
      o.put("offset", offset);
    }
    if (fetch == null) {
      o.putNull("fetch");
    } else {
      o.put("fetch", fetch);
    }
  }
}
