package io.pycql.planner.optimize;

import static io.pycql.planner.optimize.PlanFixture.lines;
import static io.pycql.planner.optimize.PlanFixture.str;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.pycql.planner.rel.CqlStreamFilter;
import io.pycql.planner.rel.RelToStreamKind;
import io.pycql.planner.rel.WindowSpec;
import java.util.Set;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.sql.fun.SqlStdOperatorTable;
import org.junit.jupiter.api.Test;

class IStreamToStreamFilterRuleTest {
  private final PlanFixture f = new PlanFixture();

  /** {@code SELECT kind car_id, speed * 2 FROM PosSpeedStr [spec] WHERE speed > 65}. */
  private RelNode query(RelToStreamKind kind, WindowSpec spec) {
    f.window("PosSpeedStr", spec);
    f.b.filter(f.b.call(SqlStdOperatorTable.GREATER_THAN, f.b.field("speed"), f.b.literal(65)))
        .project(f.b.field("car_id"),
            f.b.alias(f.b.call(SqlStdOperatorTable.MULTIPLY, f.b.field("speed"),
                f.b.literal(2)), "double_speed"));
    return f.toStream(kind).build();
  }

  @Test void istreamOverUnboundedBecomesStreamFilter() {
    RelNode before = query(RelToStreamKind.ISTREAM, WindowSpec.unbounded());
    assertEquals(lines(
        "CqlRelToStream(kind=[ISTREAM])",
        "  LogicalProject(car_id=[$0], double_speed=[*($1, 2)])",
        "    LogicalFilter(condition=[>($1, 65)])",
        "      CqlWindow(window=[UNBOUNDED])",
        "        LogicalTableScan(table=[[PosSpeedStr]])"), str(before));
    String expected = lines(
        "CqlStreamFilter(condition=[>($1, 65)], car_id=[$0], double_speed=[*($1, 2)])",
        "  LogicalTableScan(table=[[PosSpeedStr]])");
    // directly, with the filter and project still above the window
    RelNode after = PlanFixture.apply(before, IStreamToStreamFilterRule.INSTANCE);
    assertEquals(expected, str(after));
    assertEquals(before.getRowType(), after.getRowType());
    // and through the optimizer, after the transposes moved them below the window
    assertEquals(expected, str(CqlOptimizer.optimize(before, Set.of())));
  }

  @Test void rstreamOverNowBecomesStreamFilter() {
    RelNode after = CqlOptimizer.optimize(query(RelToStreamKind.RSTREAM, WindowSpec.now()),
        Set.of());
    assertEquals(lines(
        "CqlStreamFilter(condition=[>($1, 65)], car_id=[$0], double_speed=[*($1, 2)])",
        "  LogicalTableScan(table=[[PosSpeedStr]])"), str(after));
  }

  @Test void istreamOverNowStaysWhenDuplicatesAtConsecutiveInstantsCouldCancel() {
    // ISTREAM(S [NOW]) drops an output tuple equal to one of the previous instant
    RelNode before = query(RelToStreamKind.ISTREAM, WindowSpec.now());
    assertEquals(lines(
        "CqlRelToStream(kind=[ISTREAM])",
        "  CqlWindow(window=[NOW])",
        "    LogicalProject(car_id=[$0], double_speed=[*($1, 2)])",
        "      LogicalFilter(condition=[>($1, 65)])",
        "        LogicalTableScan(table=[[PosSpeedStr]])"),
        str(CqlOptimizer.optimize(before, Set.of())));
  }

  @Test void istreamOverNowKeepingTheTimestampColumnBecomesStreamFilter() {
    // Bids' timestamp column ts is in every output tuple: tuples of two instants differ
    f.window("Bids", WindowSpec.now());
    f.b.project(f.b.field("auction"), f.b.field("ts"));
    RelNode before = f.toStream(RelToStreamKind.ISTREAM).build();
    assertEquals(lines(
        "CqlStreamFilter(auction=[$0], ts=[$2])",
        "  LogicalTableScan(table=[[Bids]])"), str(CqlOptimizer.optimize(before, Set.of())));
    f.window("Bids", WindowSpec.now());
    f.b.project(f.b.field("auction"));
    RelNode withoutTs = f.toStream(RelToStreamKind.ISTREAM).build();
    assertInstanceOf(io.pycql.planner.rel.CqlRelToStream.class,
        CqlOptimizer.optimize(withoutTs, Set.of()));
  }

  @Test void leavesRangeWindowsDstreamAndRstreamOverUnboundedAlone() {
    for (RelNode before : new RelNode[] {
        query(RelToStreamKind.ISTREAM, WindowSpec.range(30_000)),
        query(RelToStreamKind.DSTREAM, WindowSpec.unbounded()),
        query(RelToStreamKind.RSTREAM, WindowSpec.unbounded()),
        query(RelToStreamKind.ISTREAM, WindowSpec.rows(5))}) {
      assertEquals(str(before), str(PlanFixture.apply(before,
          IStreamToStreamFilterRule.INSTANCE)));
    }
  }

  @Test void leavesAggregatesAlone() {
    f.window("PosSpeedStr", WindowSpec.unbounded());
    f.b.aggregate(f.b.groupKey("car_id"), f.b.count());
    RelNode before = f.toStream(RelToStreamKind.ISTREAM).build();
    assertEquals(str(before), str(PlanFixture.apply(before, IStreamToStreamFilterRule.INSTANCE)));
  }

  @Test void mergesWithAStreamFilterBelow() {
    // a stream-valued view used as a stream: ISTREAM(V [UNBOUNDED] WHERE car_id < 10)
    RelNode inner = query(RelToStreamKind.ISTREAM, WindowSpec.unbounded());
    f.b.push(io.pycql.planner.rel.CqlWindow.create(inner, WindowSpec.unbounded()));
    f.b.filter(f.b.call(SqlStdOperatorTable.LESS_THAN, f.b.field("car_id"), f.b.literal(10)));
    RelNode before = f.toStream(RelToStreamKind.ISTREAM).build();
    RelNode after = CqlOptimizer.optimize(before, Set.of());
    assertEquals(lines(
        "CqlStreamFilter(condition=[AND(>($1, 65), <($0, 10))], car_id=[$0], "
            + "double_speed=[*($1, 2)])",
        "  LogicalTableScan(table=[[PosSpeedStr]])"), str(after));
    assertInstanceOf(CqlStreamFilter.class, after);
  }

  @Test void disabledRuleKeepsTheRelationToStreamOperator() {
    RelNode before = query(RelToStreamKind.ISTREAM, WindowSpec.unbounded());
    assertEquals(lines(
        "CqlRelToStream(kind=[ISTREAM])",
        "  CqlWindow(window=[UNBOUNDED])",
        "    LogicalProject(car_id=[$0], double_speed=[*($1, 2)])",
        "      LogicalFilter(condition=[>($1, 65)])",
        "        LogicalTableScan(table=[[PosSpeedStr]])"),
        str(CqlOptimizer.optimize(before, Set.of("IStreamToStreamFilterRule"))));
  }
}
