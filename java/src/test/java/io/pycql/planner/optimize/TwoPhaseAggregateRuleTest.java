package io.pycql.planner.optimize;

import static io.pycql.planner.optimize.PlanFixture.lines;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.pycql.planner.catalog.CqlColumn;
import io.pycql.planner.catalog.CqlSourceTable;
import io.pycql.planner.rel.CqlWindow;
import io.pycql.planner.rel.WindowSpec;
import java.util.ArrayList;
import java.util.List;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.schema.SchemaPlus;
import org.apache.calcite.tools.Frameworks;
import org.apache.calcite.tools.RelBuilder;
import org.junit.jupiter.api.Test;

/**
 * The stream {@code Orders(customer, item, qty)} hashed by {@code customer} over 6
 * partitions; each plan is placed by {@link ExchangeRule} first, as the optimizer does.
 */
class TwoPhaseAggregateRuleTest {
  private final RelBuilder b;

  TwoPhaseAggregateRuleTest() {
    SchemaPlus root = Frameworks.createRootSchema(true);
    List<CqlColumn> cols = new ArrayList<>();
    for (String c : List.of("customer", "item", "qty")) {
      cols.add(new CqlColumn(c, "INTEGER", true, null, null));
    }
    root.add("Orders", new CqlSourceTable("Orders", true, "orders", null, "json", List.of(),
        cols, List.of("customer"), 6));
    b = RelBuilder.create(Frameworks.newConfigBuilder().defaultSchema(root).build());
  }

  private RelBuilder window(WindowSpec spec) {
    return b.push(CqlWindow.create(b.scan("Orders").build(), spec));
  }

  private static RelNode placed(RelNode logical) {
    return TwoPhaseAggregateRule.apply(ExchangeRule.apply(logical));
  }

  @Test void aGlobalAggregateSplitsAcrossTheSingleExchange() {
    window(WindowSpec.range(10_000));
    RelNode plan = b.aggregate(b.groupKey(), b.countStar("n"), b.sum(b.field("qty")).as("s"),
        b.min(b.field("qty")).as("lo"), b.count(b.field("item")).as("c")).build();
    assertEquals(lines(
        "LogicalAggregate(group=[{}], n=[$SUM0($0)], s=[SUM($1)], lo=[MIN($2)], c=[$SUM0($3)])",
        "  CqlExchange(distribution=[single], keys=[[]], partitions=[1])",
        "    LogicalAggregate(group=[{}], n=[COUNT()], s=[SUM($2)], lo=[MIN($2)], c=[COUNT($1)])",
        "      CqlWindow(window=[RANGE 10000 ms])",
        "        LogicalTableScan(table=[[Orders]])"), PlanFixture.str(placed(plan)));
  }

  @Test void aGroupedAggregateOverASlidingWindowSplitsOnItsHashKeys() {
    window(WindowSpec.range(10_000, 5_000));
    RelNode plan = b.aggregate(b.groupKey("qty", "item"), b.countStar("n"),
        b.max(b.field("customer")).as("hi")).build();
    assertEquals(lines(
        "LogicalAggregate(group=[{0, 1}], n=[$SUM0($2)], hi=[MAX($3)])",
        "  CqlExchange(distribution=[hash[0, 1]], keys=[[0, 1]], partitions=[6])",
        "    LogicalAggregate(group=[{1, 2}], n=[COUNT()], hi=[MAX($0)])",
        "      CqlWindow(window=[RANGE 10000 ms SLIDE 5000 ms])",
        "        LogicalTableScan(table=[[Orders]])"), PlanFixture.str(placed(plan)));
  }

  @Test void aGroupedAggregateOverAnUnslidWindowStaysWhole() {
    window(WindowSpec.range(10_000));
    RelNode exchanged = ExchangeRule.apply(
        b.aggregate(b.groupKey("item"), b.countStar("n")).build());
    assertSame(exchanged, TwoPhaseAggregateRule.apply(exchanged));
  }

  @Test void callsThatDoNotDecomposeKeepOnePhase() {
    window(WindowSpec.range(10_000));
    RelNode exchanged = ExchangeRule.apply(b.aggregate(b.groupKey(),
        b.countStar("n"), b.count(true, "d", b.field("qty"))).build());
    assertSame(exchanged, TwoPhaseAggregateRule.apply(exchanged));
  }

  @Test void aCountSlidingRowsWindowNeedsItsOwnExchangeAndIsNotSplit() {
    window(WindowSpec.rows(5));
    RelNode exchanged = ExchangeRule.apply(b.aggregate(b.groupKey(), b.countStar("n")).build());
    assertSame(exchanged, TwoPhaseAggregateRule.apply(exchanged));
  }
}
