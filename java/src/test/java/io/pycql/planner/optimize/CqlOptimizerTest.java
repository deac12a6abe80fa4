package io.pycql.planner.optimize;

import static io.pycql.planner.optimize.PlanFixture.lines;
import static io.pycql.planner.optimize.PlanFixture.str;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pycql.planner.rel.RelToStreamKind;
import io.pycql.planner.rel.WindowSpec;
import java.util.List;
import java.util.Set;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.sql.fun.SqlStdOperatorTable;
import org.junit.jupiter.api.Test;

class CqlOptimizerTest {
  private final PlanFixture f = new PlanFixture();

  @Test void avgStaysAvg() {
    f.window("PosSpeedStr", WindowSpec.range(30_000));
    f.b.aggregate(f.b.groupKey("car_id"), f.b.avg(f.b.field("speed")));
    RelNode before = f.toStream(RelToStreamKind.ISTREAM).build();
    assertEquals(lines(
        "CqlRelToStream(kind=[ISTREAM])",
        "  LogicalAggregate(group=[{0}], agg#0=[AVG($1)])",
        "    CqlWindow(window=[RANGE 30000 ms])",
        "      LogicalTableScan(table=[[PosSpeedStr]])"),
        str(CqlOptimizer.optimize(before, Set.of())));
  }

  @Test void searchIsExpandedAndConstantsReduced() {
    f.window("PosSpeedStr", WindowSpec.now());
    // speed IN (10, 20, 30) AND speed > 1 + 1: Calcite makes a SEARCH of a Sarg
    f.b.filter(f.b.and(
        f.b.in(f.b.field("speed"), f.b.literal(10), f.b.literal(20), f.b.literal(30)),
        f.b.call(SqlStdOperatorTable.GREATER_THAN, f.b.field("speed"),
            f.b.call(SqlStdOperatorTable.PLUS, f.b.literal(1), f.b.literal(1)))));
    RelNode before = f.b.build();
    assertTrue(str(before).contains("SEARCH") || str(before).contains("OR"), str(before));
    String after = str(CqlOptimizer.optimize(before, Set.of()));
    assertEquals(lines(
        "CqlWindow(window=[NOW])",
        "  LogicalFilter(condition=[OR(=($1, 10), =($1, 20), =($1, 30))])",
        "    LogicalTableScan(table=[[PosSpeedStr]])"), after);
  }

  @Test void keepsTheRootColumnNamesWhenARenamingProjectIsRemoved() {
    f.window("PosSpeedStr", WindowSpec.range(30_000));
    f.b.project(List.of(f.b.field(0), f.b.field(1), f.b.field(2)),
        List.of("car", "mph", "where_"), true);
    RelNode before = f.b.build();
    RelNode after = CqlOptimizer.optimize(before, Set.of());
    assertEquals(List.of("car", "mph", "where_"), after.getRowType().getFieldNames());
  }

  @Test void ruleNamesListEveryRuleOnce() {
    List<String> names = CqlOptimizer.ruleNames();
    assertEquals(List.of("FilterReduceExpressionsRule", "ProjectReduceExpressionsRule",
        "JoinReduceExpressionsRule", "FilterMergeRule", "ProjectMergeRule",
        "ProjectRemoveRule", "FilterProjectTransposeRule", "FilterIntoJoinRule",
        "JoinConditionPushRule", "JoinPushExpressionsRule", "FilterAggregateTransposeRule",
        "FilterSetOpTransposeRule",
        "AggregateProjectMergeRule", "FilterWindowTransposeRule", "ProjectWindowTransposeRule",
        "WindowTopNRule", "IStreamToStreamFilterRule", "RStreamLookupJoinRule",
        "AggregateExtractProjectRule", "ProjectJoinTransposeRule", "SharedSubplanRule",
        "ExchangeRule", "TwoPhaseAggregateRule"), names);
  }

  @Test void disablingAStandardRuleByItsClassName() {
    f.window("PosSpeedStr", WindowSpec.rows(3));
    f.b.filter(f.b.call(SqlStdOperatorTable.GREATER_THAN, f.b.field("speed"), f.b.literal(1)));
    f.b.filter(f.b.call(SqlStdOperatorTable.LESS_THAN, f.b.field("speed"), f.b.literal(9)));
    RelNode before = f.b.build();
    assertEquals(lines(
        "LogicalFilter(condition=[AND(>($1, 1), <($1, 9))])",
        "  CqlWindow(window=[ROWS 3])",
        "    LogicalTableScan(table=[[PosSpeedStr]])"),
        str(CqlOptimizer.optimize(before, Set.of())));
    assertEquals(str(before), str(CqlOptimizer.optimize(before, Set.of("FilterMergeRule"))));
  }
}
