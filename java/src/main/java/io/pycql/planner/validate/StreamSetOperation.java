package io.pycql.planner.validate;

import io.pycql.planner.CqlPlannerError;
import io.pycql.planner.parser.SqlCqlRelToStream;
import io.pycql.planner.rel.CqlRelToStream;
import io.pycql.planner.rel.CqlWindow;
import io.pycql.planner.rel.RelToStreamKind;
import io.pycql.planner.rel.WindowSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.rel.logical.LogicalProject;
import org.apache.calcite.rel.logical.LogicalUnion;
import org.apache.calcite.rel.type.RelDataType;
import org.apache.calcite.rel.type.RelDataTypeFactory;
import org.apache.calcite.rex.RexBuilder;
import org.apache.calcite.rex.RexNode;
import org.apache.calcite.sql.SqlBasicCall;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlSelect;
import org.apache.calcite.sql.SqlSetOperator;
import org.apache.calcite.sql.type.SqlTypeUtil;

/**
 * A set operation whose operands are streams: {@code ISTREAM(q1) UNION ALL ISTREAM(q2)}.
 *
 * <ul>
 *   <li>{@code UNION ALL} is the merge of the streams: every element of every operand, with
 *       its timestamp (a {@code union} operator with stream inputs).
 *   <li>{@code UNION} is, at each instant, the distinct tuples of the operands' elements of that
 *       instant: {@code RSTREAM(S1 [NOW] UNION S2 [NOW])}.
 *   <li>{@code EXCEPT} and {@code INTERSECT} of streams are refused (apply them to relations,
 *       inside the relation-to-stream operator).
 * </ul>
 *
 * <p>Each operand must be stream-valued (an explicit ISTREAM/DSTREAM/RSTREAM or a monotonic
 * query); the columns are matched by position, named after the first operand's, and cast to
 * the operands' common type where they differ.
 */
final class StreamSetOperation {
  private final Function<SqlNode, CqlAnalyzer.Analyzed> analyze;
  private final RelDataTypeFactory typeFactory;
  private final RexBuilder rexBuilder;
  private final List<CqlAnalyzer.Analyzed> leaves = new ArrayList<>();

  StreamSetOperation(Function<SqlNode, CqlAnalyzer.Analyzed> analyze,
      RelDataTypeFactory typeFactory, RexBuilder rexBuilder) {
    this.analyze = analyze;
    this.typeFactory = typeFactory;
    this.rexBuilder = rexBuilder;
  }

  /** True when {@code query} is a set operation with a relation-to-stream operand. */
  static boolean isStreamSetOperation(SqlNode query) {
    return isSetOperation(query) && hasStreamLeaf(query);
  }

  private static boolean isSetOperation(SqlNode n) {
    return n instanceof SqlBasicCall && ((SqlBasicCall) n).getOperator() instanceof SqlSetOperator;
  }

  static boolean hasStreamLeaf(SqlNode n) {
    if (isSetOperation(n)) {
      for (SqlNode o : ((SqlCall) n).getOperandList()) {
        if (hasStreamLeaf(o)) {
          return true;
        }
      }
      return false;
    }
    if (n instanceof SqlCqlRelToStream) {
      return true;
    }
    if (n instanceof SqlSelect && ((SqlSelect) n).getSelectList() != null
        && ((SqlSelect) n).getSelectList().size() == 1) {
      return CqlAnalyzer.relToStreamKindOf(((SqlSelect) n).getSelectList().get(0)) != null;
    }
    return CqlAnalyzer.relToStreamKindOf(n) != null;
  }

  /** The analyzed set operation: a stream. */
  CqlAnalyzer.Analyzed analyze(SqlNode query) {
    RelNode rel = streamRel(query);
    List<java.util.Map<String, Object>> params = new ArrayList<>();
    for (CqlAnalyzer.Analyzed a : leaves) {
      params.addAll(a.params);
    }
    params.sort((x, y) -> Integer.compare((Integer) x.get("index"), (Integer) y.get("index")));
    return new CqlAnalyzer.Analyzed(rel, true, params, leaves.get(0).validator);
  }

  private RelNode streamRel(SqlNode node) {
    if (!isSetOperation(node)) {
      CqlAnalyzer.Analyzed a = analyze.apply(node);
      if (!a.stream) {
        throw CqlPlannerError.validate(node.getParserPosition(),
            "This operand of a set operation on streams is a relation; apply ISTREAM, DSTREAM "
            + "or RSTREAM to it, or use the set operation inside one");
      }
      leaves.add(a);
      return a.rel;
    }
    SqlBasicCall call = (SqlBasicCall) node;
    SqlSetOperator op = (SqlSetOperator) call.getOperator();
    if (call.getKind() != SqlKind.UNION) {
      throw CqlPlannerError.unsupported(call.getParserPosition(),
          op.getName() + " of streams is not supported (UNION and UNION ALL are); apply "
          + op.getName() + " to relations inside ISTREAM, DSTREAM or RSTREAM");
    }
    List<RelNode> inputs = new ArrayList<>();
    List<SqlNode> operands = new ArrayList<>();
    for (SqlNode o : call.getOperandList()) {
      inputs.add(streamRel(o));
      operands.add(o);
    }
    inputs = commonTypes(inputs, operands, op.getName());
    if (op.isAll()) {
      return LogicalUnion.create(inputs, true);
    }
    List<RelNode> now = new ArrayList<>();
    for (RelNode in : inputs) {
      now.add(CqlWindow.create(in, WindowSpec.now()));
    }
    return CqlRelToStream.create(LogicalUnion.create(now, false), RelToStreamKind.RSTREAM);
  }

  /** The inputs with their columns cast to the common type where it differs. */
  private List<RelNode> commonTypes(List<RelNode> inputs, List<SqlNode> operands, String op) {
    RelDataType first = inputs.get(0).getRowType();
    for (int i = 1; i < inputs.size(); i++) {
      int n = inputs.get(i).getRowType().getFieldCount();
      if (n != first.getFieldCount()) {
        throw CqlPlannerError.validate(operands.get(i).getParserPosition(),
            "Each operand of " + op + " must have the same number of columns: this one has "
            + n + ", the first has " + first.getFieldCount());
      }
    }
    List<RelDataType> types = new ArrayList<>();
    for (RelNode in : inputs) {
      types.add(in.getRowType());
    }
    RelDataType common = typeFactory.leastRestrictive(types);
    if (common == null) {
      throw CqlPlannerError.validate(operands.get(1).getParserPosition(),
          "The operands of " + op + " have incompatible column types: "
          + first.getFullTypeString() + " and " + inputs.get(1).getRowType().getFullTypeString());
    }
    List<RelNode> out = new ArrayList<>();
    for (RelNode in : inputs) {
      List<RexNode> exprs = new ArrayList<>();
      boolean cast = false;
      for (int c = 0; c < common.getFieldCount(); c++) {
        RelDataType from = in.getRowType().getFieldList().get(c).getType();
        RelDataType to = common.getFieldList().get(c).getType();
        RexNode ref = rexBuilder.makeInputRef(in, c);
        if (SqlTypeUtil.equalSansNullability(typeFactory, from, to)) {
          exprs.add(ref);
        } else {
          exprs.add(rexBuilder.makeCast(to, ref, true, false));
          cast = true;
        }
      }
      out.add(cast ? LogicalProject.create(in, List.of(), exprs,
          in.getRowType().getFieldNames(), java.util.Set.of()) : in);
    }
    return out;
  }
}
