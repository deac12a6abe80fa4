package io.pycql.planner.optimize;

import static io.pycql.planner.optimize.PlanFixture.lines;
import static io.pycql.planner.optimize.PlanFixture.str;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pycql.planner.rel.RelToStreamKind;
import io.pycql.planner.rel.WindowSpec;
import java.util.Set;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.rel.core.JoinRelType;
import org.apache.calcite.sql.fun.SqlStdOperatorTable;
import org.junit.jupiter.api.Test;

class RStreamLookupJoinRuleTest {
  private final PlanFixture f = new PlanFixture();

  /** {@code RSTREAM(SELECT speed, owner FROM PosSpeedStr [spec] JOIN Cars USING car_id)}. */
  private RelNode query(RelToStreamKind kind, WindowSpec spec, JoinRelType type) {
    f.window("PosSpeedStr", spec);
    f.b.scan("Cars");
    f.b.join(type, f.b.equals(f.b.field(2, 0, "car_id"), f.b.field(2, 1, "car_id")));
    f.b.project(f.b.field("speed"), f.b.field("owner"));
    return f.toStream(kind).build();
  }

  @Test void rstreamOfNowJoinTableBecomesLookupJoin() {
    RelNode before = query(RelToStreamKind.RSTREAM, WindowSpec.now(), JoinRelType.INNER);
    assertEquals(lines(
        "CqlRelToStream(kind=[RSTREAM])",
        "  LogicalProject(speed=[$1], owner=[$4])",
        "    LogicalJoin(condition=[=($0, $3)], joinType=[inner])",
        "      CqlWindow(window=[NOW])",
        "        LogicalTableScan(table=[[PosSpeedStr]])",
        "      LogicalTableScan(table=[[Cars]])"), str(before));
    String expected = lines(
        "LogicalProject(speed=[$1], owner=[$4])",
        "  CqlLookupJoin(condition=[=($0, $3)], joinType=[inner])",
        "    LogicalTableScan(table=[[PosSpeedStr]])",
        "    LogicalTableScan(table=[[Cars]])");
    assertEquals(expected, str(PlanFixture.apply(before, RStreamLookupJoinRule.INSTANCE)));
    assertEquals(expected, str(CqlOptimizer.optimize(before, Set.of())));
  }

  @Test void streamOnTheRightIsMovedFirstAndColumnsRestored() {
    f.b.scan("Cars");
    f.window("PosSpeedStr", WindowSpec.now());
    f.b.join(JoinRelType.RIGHT, f.b.equals(f.b.field(2, 0, "car_id"), f.b.field(2, 1, "car_id")));
    RelNode before = f.toStream(RelToStreamKind.RSTREAM).build();
    RelNode after = CqlOptimizer.optimize(before, Set.of());
    assertEquals(lines(
        "LogicalProject(car_id=[$3], owner=[$4], car_id0=[$0], speed=[$1], pos=[$2])",
        "  CqlLookupJoin(condition=[=($3, $0)], joinType=[left])",
        "    LogicalTableScan(table=[[PosSpeedStr]])",
        "    LogicalTableScan(table=[[Cars]])"), str(after));
    assertEquals(before.getRowType(), after.getRowType());
  }

  @Test void filterBetweenJoinAndWindowMovesOntoTheStream() {
    f.window("PosSpeedStr", WindowSpec.now());
    f.b.filter(f.b.call(SqlStdOperatorTable.GREATER_THAN, f.b.field("speed"), f.b.literal(65)));
    f.b.scan("Cars");
    f.b.join(JoinRelType.LEFT, f.b.equals(f.b.field(2, 0, "car_id"), f.b.field(2, 1, "car_id")));
    RelNode before = f.toStream(RelToStreamKind.RSTREAM).build();
    assertEquals(lines(
        "CqlLookupJoin(condition=[=($0, $3)], joinType=[left])",
        "  LogicalFilter(condition=[>($1, 65)])",
        "    LogicalTableScan(table=[[PosSpeedStr]])",
        "  LogicalTableScan(table=[[Cars]])"),
        str(PlanFixture.apply(before, RStreamLookupJoinRule.INSTANCE)));
  }

  @Test void relationSideMayBeAStreamUnderUnbounded() {
    f.window("PosSpeedStr", WindowSpec.now());
    f.window("Bids", WindowSpec.unbounded());
    f.b.join(JoinRelType.INNER, f.b.equals(f.b.field(2, 0, "car_id"),
        f.b.field(2, 1, "auction")));
    RelNode before = f.toStream(RelToStreamKind.RSTREAM).build();
    assertEquals(lines(
        "CqlLookupJoin(condition=[=($0, $3)], joinType=[inner])",
        "  LogicalTableScan(table=[[PosSpeedStr]])",
        "  CqlWindow(window=[UNBOUNDED])",
        "    LogicalTableScan(table=[[Bids]])"),
        str(CqlOptimizer.optimize(before, Set.of())));
  }

  @Test void leavesOtherPlansAlone() {
    RelNode[] others = {
        // not NOW: RSTREAM re-emits the whole window at every instant
        query(RelToStreamKind.RSTREAM, WindowSpec.range(30_000), JoinRelType.INNER),
        query(RelToStreamKind.RSTREAM, WindowSpec.unbounded(), JoinRelType.INNER),
        // ISTREAM of a join is not a lookup
        query(RelToStreamKind.ISTREAM, WindowSpec.now(), JoinRelType.INNER),
        // would have to emit unmatched rows of the table at every instant
        query(RelToStreamKind.RSTREAM, WindowSpec.now(), JoinRelType.FULL),
        query(RelToStreamKind.RSTREAM, WindowSpec.now(), JoinRelType.RIGHT),
    };
    for (RelNode before : others) {
      assertEquals(str(before), str(PlanFixture.apply(before, RStreamLookupJoinRule.INSTANCE)));
    }
  }

  @Test void disabledRuleKeepsTheJoin() {
    RelNode before = query(RelToStreamKind.RSTREAM, WindowSpec.now(), JoinRelType.INNER);
    assertEquals(lines(
        "CqlRelToStream(kind=[RSTREAM])",
        "  LogicalProject(speed=[$1], owner=[$4])",
        "    LogicalJoin(condition=[=($0, $3)], joinType=[inner])",
        "      CqlWindow(window=[NOW])",
        "        LogicalTableScan(table=[[PosSpeedStr]])",
        "      LogicalTableScan(table=[[Cars]])"),
        // (ProjectJoinTransposeRule off too: it would narrow the stream's side)
        str(CqlOptimizer.optimize(before,
            Set.of("RStreamLookupJoinRule", "ProjectJoinTransposeRule"))));
  }
}
