package io.pycql.planner.optimize;

import static io.pycql.planner.optimize.PlanFixture.lines;
import static io.pycql.planner.optimize.PlanFixture.str;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pycql.planner.rel.WindowSpec;
import java.util.List;
import java.util.Set;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.sql.fun.SqlStdOperatorTable;
import org.junit.jupiter.api.Test;

class ProjectWindowTransposeRuleTest {
  private final PlanFixture f = new PlanFixture();

  private RelNode speedPlusOne(WindowSpec spec) {
    f.window("PosSpeedStr", spec);
    return f.b.project(f.b.field("car_id"),
        f.b.call(SqlStdOperatorTable.PLUS, f.b.field("speed"), f.b.literal(1))).build();
  }

  @Test void pushesProjectBelowTimeBasedWindows() {
    for (WindowSpec spec : List.of(WindowSpec.now(), WindowSpec.unbounded(),
        WindowSpec.range(30_000))) {
      RelNode before = speedPlusOne(spec);
      assertEquals(lines(
          "LogicalProject(car_id=[$0], $f1=[+($1, 1)])",
          "  CqlWindow(window=[" + spec + "])",
          "    LogicalTableScan(table=[[PosSpeedStr]])"), str(before));
      assertEquals(lines(
          "CqlWindow(window=[" + spec + "])",
          "  LogicalProject(car_id=[$0], $f1=[+($1, 1)])",
          "    LogicalTableScan(table=[[PosSpeedStr]])"),
          str(PlanFixture.apply(before, ProjectWindowTransposeRule.INSTANCE)), spec.toString());
    }
  }

  @Test void leavesRowAndPartitionWindowsAlone() {
    for (WindowSpec spec : List.of(WindowSpec.rows(10), WindowSpec.partition(List.of(0), 3))) {
      RelNode before = speedPlusOne(spec);
      assertEquals(str(before),
          str(PlanFixture.apply(before, ProjectWindowTransposeRule.INSTANCE)), spec.toString());
    }
  }

  @Test void leavesNonDeterministicProjectsAbove() {
    f.window("PosSpeedStr", WindowSpec.unbounded());
    RelNode before = f.b.project(f.b.field("car_id"), f.b.call(SqlStdOperatorTable.RAND))
        .build();
    assertEquals(str(before),
        str(PlanFixture.apply(before, ProjectWindowTransposeRule.INSTANCE)));
  }

  @Test void projectAndFilterBothEndUpOnTheStream() {
    f.window("PosSpeedStr", WindowSpec.range(30_000));
    RelNode before = f.b.filter(f.b.call(SqlStdOperatorTable.GREATER_THAN, f.b.field("speed"),
        f.b.literal(65))).project(f.b.field("car_id")).build();
    assertEquals(lines(
        "CqlWindow(window=[RANGE 30000 ms])",
        "  LogicalProject(car_id=[$0])",
        "    LogicalFilter(condition=[>($1, 65)])",
        "      LogicalTableScan(table=[[PosSpeedStr]])"),
        str(CqlOptimizer.optimize(before, Set.of())));
    assertEquals(lines(
        "LogicalProject(car_id=[$0])",
        "  CqlWindow(window=[RANGE 30000 ms])",
        "    LogicalFilter(condition=[>($1, 65)])",
        "      LogicalTableScan(table=[[PosSpeedStr]])"),
        str(CqlOptimizer.optimize(before, Set.of("ProjectWindowTransposeRule"))));
  }
}
