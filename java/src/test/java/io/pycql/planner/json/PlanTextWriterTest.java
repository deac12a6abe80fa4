package io.pycql.planner.json;

import static io.pycql.planner.optimize.PlanFixture.lines;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pycql.planner.optimize.CqlOptimizer;
import io.pycql.planner.optimize.PlanFixture;
import io.pycql.planner.rel.RelToStreamKind;
import io.pycql.planner.rel.WindowSpec;
import java.util.Set;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.rel.core.JoinRelType;
import org.apache.calcite.sql.fun.SqlStdOperatorTable;
import org.junit.jupiter.api.Test;

class PlanTextWriterTest {
  private final PlanFixture f = new PlanFixture();

  @Test void istreamOverRangeWindow() {
    // SELECT ISTREAM(*) FROM PosSpeedStr [RANGE 30 SECONDS] WHERE speed > 65
    f.window("PosSpeedStr", WindowSpec.range(30_000));
    f.b.filter(f.b.call(SqlStdOperatorTable.GREATER_THAN, f.b.field("speed"), f.b.literal(65)));
    RelNode plan = CqlOptimizer.optimize(f.toStream(RelToStreamKind.ISTREAM).build(), Set.of());
    assertEquals(lines(
        "IStream writes=[out]  output=stream state=previous-instant range 30 s per [$0, $1, $2]",
        "  Window(RANGE 30 s)  output=relation state=range 30 s",
        "    Filter(condition=[>($1, 65)])  output=stream state=none",
        "      Source(stream PosSpeedStr) reads=[pos-speed]  output=stream state=none"),
        PlanTextWriter.explain(plan, "out"));
  }

  @Test void filterKeptAboveTheWindowWorksOnTheRelation() {
    f.window("PosSpeedStr", WindowSpec.range(30_000));
    f.b.filter(f.b.call(SqlStdOperatorTable.GREATER_THAN, f.b.field("speed"), f.b.literal(65)));
    RelNode plan = CqlOptimizer.optimize(f.toStream(RelToStreamKind.ISTREAM).build(),
        Set.of("FilterWindowTransposeRule"));
    assertEquals(lines(
        "IStream  output=stream state=previous-instant range 30 s per [$0, $1, $2]",
        "  Filter(condition=[>($1, 65)])  output=relation state=none",
        "    Window(RANGE 30 s)  output=relation state=range 30 s",
        "      Source(stream PosSpeedStr) reads=[pos-speed]  output=stream state=none"),
        PlanTextWriter.explain(plan, null));
  }

  @Test void istreamOverUnboundedIsAStreamFilter() {
    // SELECT ISTREAM car_id, speed * 2 AS double_speed FROM PosSpeedStr WHERE speed > 65
    f.window("PosSpeedStr", WindowSpec.unbounded());
    f.b.filter(f.b.call(SqlStdOperatorTable.GREATER_THAN, f.b.field("speed"), f.b.literal(65)))
        .project(f.b.field("car_id"), f.b.alias(f.b.call(SqlStdOperatorTable.MULTIPLY,
            f.b.field("speed"), f.b.literal(2)), "double_speed"));
    RelNode plan = CqlOptimizer.optimize(f.toStream(RelToStreamKind.ISTREAM).build(), Set.of());
    assertEquals(lines(
        "StreamFilter(condition=[>($1, 65)], exprs=[car_id=$0, double_speed=*($1, 2)])"
            + "  output=stream state=none",
        "  Source(stream PosSpeedStr) reads=[pos-speed]  output=stream state=none"),
        PlanTextWriter.explain(plan, null));
  }

  @Test void sharedWindowIsPrintedOnce() {
    f.window("PosSpeedStr", WindowSpec.partition(java.util.List.of(0), 1));
    f.window("PosSpeedStr", WindowSpec.partition(java.util.List.of(0), 1));
    f.b.join(JoinRelType.INNER, f.b.call(SqlStdOperatorTable.LESS_THAN,
        f.b.field(2, 0, "speed"), f.b.field(2, 1, "speed")));
    RelNode plan = CqlOptimizer.optimize(f.toStream(RelToStreamKind.RSTREAM).build(), Set.of());
    assertEquals(lines(
        "RStream  output=stream state=unbounded per [$0, $1, $2, $3, $4, $5]",
        "  Join(type=inner, condition=[<($1, $4)])  output=relation state=unbounded "
            + "(left unbounded, right unbounded)",
        "    #1=Window(PARTITION BY $0 ROWS 1)  output=relation state=rows 1 per [$0]",
        "      Source(stream PosSpeedStr) reads=[pos-speed]  output=stream state=none",
        "    #1 (shared: Window(PARTITION BY $0 ROWS 1), printed above)"),
        PlanTextWriter.explain(plan, null));
  }

  @Test void lookupJoinAndStreamFilter() {
    f.window("PosSpeedStr", WindowSpec.now());
    f.b.filter(f.b.call(SqlStdOperatorTable.GREATER_THAN, f.b.field("speed"), f.b.literal(65)));
    f.b.scan("Cars");
    f.b.join(JoinRelType.INNER, f.b.equals(f.b.field(2, 0, "car_id"), f.b.field(2, 1, "car_id")));
    f.b.project(f.b.field("owner"));
    RelNode plan = CqlOptimizer.optimize(f.toStream(RelToStreamKind.RSTREAM).build(), Set.of());
    assertEquals(lines(
        "Project(exprs=[owner=$4]) writes=[tickets]  output=stream state=none",
        "  LookupJoin(type=inner, condition=[=($0, $3)])  output=stream state=unbounded per [$0]",
        "    Filter(condition=[>($1, 65)])  output=stream state=none",
        "      Source(stream PosSpeedStr) reads=[pos-speed]  output=stream state=none",
        "    Source(table Cars) reads=[cars]  output=relation state=none"),
        PlanTextWriter.explain(plan, "tickets"));
  }
}
