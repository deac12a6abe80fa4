package io.pycql.planner.optimize;

import static io.pycql.planner.optimize.PlanFixture.lines;
import static io.pycql.planner.optimize.PlanFixture.str;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pycql.planner.rel.WindowSpec;
import java.util.List;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.sql.fun.SqlStdOperatorTable;
import org.junit.jupiter.api.Test;

class FilterWindowTransposeRuleTest {
  private final PlanFixture f = new PlanFixture();

  private RelNode speeding(WindowSpec spec) {
    f.window("PosSpeedStr", spec);
    return f.b.filter(f.b.call(SqlStdOperatorTable.GREATER_THAN, f.b.field("speed"),
        f.b.literal(65))).build();
  }

  @Test void pushesFilterBelowRangeWindow() {
    RelNode before = speeding(WindowSpec.range(30_000));
    assertEquals(lines(
        "LogicalFilter(condition=[>($1, 65)])",
        "  CqlWindow(window=[RANGE 30000 ms])",
        "    LogicalTableScan(table=[[PosSpeedStr]])"), str(before));
    assertEquals(lines(
        "CqlWindow(window=[RANGE 30000 ms])",
        "  LogicalFilter(condition=[>($1, 65)])",
        "    LogicalTableScan(table=[[PosSpeedStr]])"),
        str(PlanFixture.apply(before, FilterWindowTransposeRule.INSTANCE)));
  }

  @Test void pushesFilterBelowNowUnboundedAndSlidingWindows() {
    for (WindowSpec spec : List.of(WindowSpec.now(), WindowSpec.unbounded(),
        WindowSpec.range(3_600_000, 300_000))) {
      RelNode after = PlanFixture.apply(speeding(spec), FilterWindowTransposeRule.INSTANCE);
      assertEquals(lines(
          "CqlWindow(window=[" + spec + "])",
          "  LogicalFilter(condition=[>($1, 65)])",
          "    LogicalTableScan(table=[[PosSpeedStr]])"), str(after), spec.toString());
    }
  }

  @Test void leavesRowAndPartitionWindowsAlone() {
    // filtering first would change which rows are the last N
    for (WindowSpec spec : List.of(WindowSpec.rows(10), WindowSpec.partition(List.of(0), 3))) {
      RelNode before = speeding(spec);
      assertEquals(str(before),
          str(PlanFixture.apply(before, FilterWindowTransposeRule.INSTANCE)), spec.toString());
    }
  }

  @Test void leavesNonDeterministicConditionsAbove() {
    f.window("PosSpeedStr", WindowSpec.range(30_000));
    RelNode before = f.b.filter(f.b.call(SqlStdOperatorTable.GREATER_THAN,
        f.b.call(SqlStdOperatorTable.RAND), f.b.literal(0.5))).build();
    assertEquals(str(before), str(PlanFixture.apply(before, FilterWindowTransposeRule.INSTANCE)));
  }

  @Test void optimizerSkipsTheRuleWhenDisabled() {
    RelNode before = speeding(WindowSpec.range(30_000));
    assertEquals(str(before), str(CqlOptimizer.optimize(before,
        java.util.Set.of("FilterWindowTransposeRule"))));
    assertEquals(lines(
        "CqlWindow(window=[RANGE 30000 ms])",
        "  LogicalFilter(condition=[>($1, 65)])",
        "    LogicalTableScan(table=[[PosSpeedStr]])"),
        str(CqlOptimizer.optimize(before, java.util.Set.of())));
  }
}
