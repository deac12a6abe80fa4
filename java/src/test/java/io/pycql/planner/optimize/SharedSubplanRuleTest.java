package io.pycql.planner.optimize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.pycql.planner.rel.CqlWindow;
import io.pycql.planner.rel.WindowSpec;
import java.util.Set;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.sql.fun.SqlStdOperatorTable;
import org.junit.jupiter.api.Test;

class SharedSubplanRuleTest {
  private final PlanFixture f = new PlanFixture();

  /**
   * {@code SELECT * FROM PosSpeedStr [a] WHERE speed > 65 UNION ALL
   *  SELECT * FROM PosSpeedStr [b] WHERE speed < 10}.
   */
  private RelNode union(WindowSpec a, WindowSpec b) {
    f.window("PosSpeedStr", a);
    f.b.filter(f.b.call(SqlStdOperatorTable.GREATER_THAN, f.b.field("speed"), f.b.literal(65)));
    f.window("PosSpeedStr", b);
    f.b.filter(f.b.call(SqlStdOperatorTable.LESS_THAN, f.b.field("speed"), f.b.literal(10)));
    return f.b.union(true).build();
  }

  /** The window under input {@code i} of the union (Filter over Window, or Window over Filter). */
  private static CqlWindow windowUnder(RelNode union, int i) {
    RelNode n = union.getInput(i);
    while (!(n instanceof CqlWindow)) {
      n = n.getInput(0);
    }
    return (CqlWindow) n;
  }

  @Test void equalWindowsOnTheSameStreamBecomeOneNode() {
    RelNode before = union(WindowSpec.range(30_000), WindowSpec.range(30_000));
    assertNotSame(windowUnder(before, 0), windowUnder(before, 1));
    RelNode after = SharedSubplanRule.apply(before);
    assertSame(windowUnder(after, 0), windowUnder(after, 1));
    assertSame(windowUnder(after, 0).getInput(), windowUnder(after, 1).getInput());
    // the plan text is unchanged: only node identity is
    assertEquals(PlanFixture.str(before), PlanFixture.str(after));
  }

  @Test void differentWindowsStayApartButShareTheSource() {
    RelNode after = SharedSubplanRule.apply(
        union(WindowSpec.range(30_000), WindowSpec.range(60_000)));
    assertNotSame(windowUnder(after, 0), windowUnder(after, 1));
    assertSame(windowUnder(after, 0).getInput(), windowUnder(after, 1).getInput());
  }

  @Test void windowsOverDifferentPushedFiltersStayApart() {
    // after FilterWindowTransposeRule each window holds differently filtered elements
    RelNode optimized = CqlOptimizer.optimize(
        union(WindowSpec.range(30_000), WindowSpec.range(30_000)), Set.of());
    assertNotSame(windowUnder(optimized, 0), windowUnder(optimized, 1));
    assertSame(windowUnder(optimized, 0).getInput().getInput(0),
        windowUnder(optimized, 1).getInput().getInput(0));
  }

  @Test void optimizerSharesUnlessDisabled() {
    RelNode shared = CqlOptimizer.optimize(
        union(WindowSpec.rows(10), WindowSpec.rows(10)), Set.of());
    assertSame(windowUnder(shared, 0), windowUnder(shared, 1));
    RelNode unshared = CqlOptimizer.optimize(
        union(WindowSpec.rows(10), WindowSpec.rows(10)), Set.of("SharedSubplanRule"));
    assertNotSame(windowUnder(unshared, 0), windowUnder(unshared, 1));
  }

  /**
   * {@code SELECT speed, COUNT(*) AS n FROM PosSpeedStr [RANGE 30 SECONDS] GROUP BY a}
   * joined on {@code n} with the same count grouped by {@code b}: q5's shape.
   */
  private RelNode countsJoined(String a, String b) {
    f.window("PosSpeedStr", WindowSpec.range(30_000));
    f.b.aggregate(f.b.groupKey(a), f.b.countStar("n"));
    f.window("PosSpeedStr", WindowSpec.range(30_000));
    f.b.aggregate(f.b.groupKey(b), f.b.countStar("n"));
    return f.b.join(org.apache.calcite.rel.core.JoinRelType.INNER,
        f.b.equals(f.b.field(2, 0, "n"), f.b.field(2, 1, "n"))).build();
  }

  @Test void equalAggregatesOverASharedWindowBecomeOneNode() {
    RelNode before = countsJoined("speed", "speed");
    assertNotSame(before.getInput(0), before.getInput(1));
    RelNode after = SharedSubplanRule.apply(before);
    assertSame(after.getInput(0), after.getInput(1));
    assertEquals(PlanFixture.str(before), PlanFixture.str(after));
  }

  @Test void aggregatesOfOtherGroupsStayApartButShareTheWindow() {
    RelNode after = SharedSubplanRule.apply(countsJoined("speed", "car_id"));
    assertNotSame(after.getInput(0), after.getInput(1));
    assertSame(after.getInput(0).getInput(0), after.getInput(1).getInput(0));
  }
}
