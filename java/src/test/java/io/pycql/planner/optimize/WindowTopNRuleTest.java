package io.pycql.planner.optimize;

import static io.pycql.planner.optimize.PlanFixture.str;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pycql.planner.rel.WindowSpec;
import java.util.List;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.rel.rules.CoreRules;
import org.apache.calcite.rex.RexBuilder;
import org.apache.calcite.rex.RexNode;
import org.apache.calcite.sql.SqlAggFunction;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.fun.SqlStdOperatorTable;
import org.junit.jupiter.api.Test;

class WindowTopNRuleTest {
  private final PlanFixture f = new PlanFixture();

  /** {@code Filter(cmp(rn, n), Project(car_id, speed, fn() OVER (PARTITION BY car_id
   * ORDER BY speed DESC) AS rn, [RANGE UNBOUNDED]))}, window functions moved out. */
  private RelNode ranked(SqlAggFunction fn, SqlOperator cmp, int n) {
    f.window("PosSpeedStr", WindowSpec.unbounded());
    RexNode over = f.b.aggregateCall(fn).over().partitionBy(f.b.field("car_id"))
        .orderBy(f.b.desc(f.b.field("speed"))).toRex();
    f.b.project(List.of(f.b.field("car_id"), f.b.field("speed"), over),
        List.of("car_id", "speed", "rn"));
    RelNode plan = f.b.filter(f.b.call(cmp, f.b.field("rn"), f.b.literal(n))).build();
    return PlanFixture.apply(plan, CoreRules.PROJECT_TO_LOGICAL_PROJECT_AND_WINDOW,
        CoreRules.FILTER_PROJECT_TRANSPOSE);
  }

  @Test void rowNumberAtMostNBecomesATopN() {
    RelNode before = ranked(SqlStdOperatorTable.ROW_NUMBER,
        SqlStdOperatorTable.LESS_THAN_OR_EQUAL, 3);
    assertTrue(str(before).contains("LogicalWindow"), str(before));
    String after = str(PlanFixture.apply(before, WindowTopNRule.INSTANCE));
    assertTrue(after.contains("CqlTopN(partition=[{0}], order=[[1 DESC]], limit=[3])"), after);
    assertFalse(after.contains("LogicalWindow") || after.contains("LogicalFilter"), after);
  }

  @Test void lessThanAndEqualsOneGiveTheirLimits() {
    String lt = str(PlanFixture.apply(ranked(SqlStdOperatorTable.ROW_NUMBER,
        SqlStdOperatorTable.LESS_THAN, 3), WindowTopNRule.INSTANCE));
    assertTrue(lt.contains("limit=[2]"), lt);
    String eq = str(PlanFixture.apply(ranked(SqlStdOperatorTable.ROW_NUMBER,
        SqlStdOperatorTable.EQUALS, 1), WindowTopNRule.INSTANCE));
    assertTrue(eq.contains("limit=[1]"), eq);
  }

  @Test void leavesRankAndOtherBoundsAlone() {
    for (RelNode before : List.of(
        ranked(SqlStdOperatorTable.RANK, SqlStdOperatorTable.LESS_THAN_OR_EQUAL, 3),
        ranked(SqlStdOperatorTable.ROW_NUMBER, SqlStdOperatorTable.GREATER_THAN_OR_EQUAL, 3),
        ranked(SqlStdOperatorTable.ROW_NUMBER, SqlStdOperatorTable.EQUALS, 2))) {
      assertEquals(str(before), str(PlanFixture.apply(before, WindowTopNRule.INSTANCE)));
    }
  }

  @Test void limitOfReadsBothOrientations() {
    RexBuilder rex = f.b.getRexBuilder();
    f.window("PosSpeedStr", WindowSpec.unbounded());
    RexNode rn = f.b.field(2);
    assertEquals(5L, WindowTopNRule.limitOf(f.b.call(SqlStdOperatorTable.GREATER_THAN_OR_EQUAL,
        f.b.literal(5), rn), 2));
    assertEquals(4L, WindowTopNRule.limitOf(f.b.call(SqlStdOperatorTable.GREATER_THAN,
        f.b.literal(5), rn), 2));
    assertNull(WindowTopNRule.limitOf(f.b.call(SqlStdOperatorTable.LESS_THAN_OR_EQUAL,
        f.b.field(1), f.b.literal(5)), 2));
    assertNull(WindowTopNRule.limitOf(rex.makeLiteral(true), 2));
  }
}
