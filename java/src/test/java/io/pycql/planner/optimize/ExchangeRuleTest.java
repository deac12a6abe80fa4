package io.pycql.planner.optimize;

import static io.pycql.planner.optimize.PlanFixture.lines;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.pycql.planner.catalog.CqlColumn;
import io.pycql.planner.catalog.CqlSourceTable;
import io.pycql.planner.rel.CqlRelToStream;
import io.pycql.planner.rel.CqlWindow;
import io.pycql.planner.rel.RelToStreamKind;
import io.pycql.planner.rel.WindowSpec;
import java.util.List;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.rel.core.JoinRelType;
import org.apache.calcite.schema.SchemaPlus;
import org.apache.calcite.sql.fun.SqlStdOperatorTable;
import org.apache.calcite.tools.Frameworks;
import org.apache.calcite.tools.RelBuilder;
import org.junit.jupiter.api.Test;

/**
 * Streams {@code Orders(customer, item, qty)} and {@code Payments(customer, amount)} hashed
 * by {@code customer} over 6 partitions, {@code Items(sku, price)} by {@code sku} over 6,
 * {@code Clicks(page, visitor)} over 4 by nothing known, {@code Local(x, y)} of one
 * partition, and the table {@code Cars(car_id, owner)}.
 */
class ExchangeRuleTest {
  private final RelBuilder b;

  ExchangeRuleTest() {
    SchemaPlus root = Frameworks.createRootSchema(true);
    stream(root, "Orders", List.of("customer"), 6, "customer", "item", "qty");
    stream(root, "Payments", List.of("customer"), 6, "customer", "amount");
    stream(root, "Items", List.of("sku"), 6, "sku", "price");
    stream(root, "Clicks", List.of(), 4, "page", "visitor");
    stream(root, "Local", List.of(), 1, "x", "y");
    root.add("Cars", new CqlSourceTable("Cars", false, "cars", null, "json", List.of("car_id"),
        List.of(col("car_id"), col("owner"))));
    b = RelBuilder.create(Frameworks.newConfigBuilder().defaultSchema(root).build());
  }

  private static void stream(SchemaPlus root, String name, List<String> key, int partitions,
      String... columns) {
    List<CqlColumn> cols = new java.util.ArrayList<>();
    for (String c : columns) {
      cols.add(col(c));
    }
    root.add(name, new CqlSourceTable(name, true, name.toLowerCase(), null, "json", List.of(),
        cols, key, partitions));
  }

  private static CqlColumn col(String name) {
    return new CqlColumn(name, "INTEGER", true, null, null);
  }

  private RelBuilder window(String stream, WindowSpec spec) {
    return b.push(CqlWindow.create(b.scan(stream).build(), spec));
  }

  private RelNode countBy(String stream, String... group) {
    window(stream, WindowSpec.range(10_000));
    return b.aggregate(b.groupKey(group), b.countStar("n")).build();
  }

  private RelNode join(String left, String leftKey, String right, String rightKey,
      JoinRelType type) {
    window(left, WindowSpec.range(10_000));
    window(right, WindowSpec.range(10_000));
    b.join(type, b.equals(b.field(2, 0, leftKey), b.field(2, 1, rightKey)));
    return CqlRelToStream.create(b.build(), RelToStreamKind.ISTREAM);
  }

  private static String str(RelNode rel) {
    return PlanFixture.str(rel);
  }

  @Test void groupByOffTheKeyHashesTheStreamBelowTheWindow() {
    assertEquals(lines(
        "LogicalAggregate(group=[{1}], n=[COUNT()])",
        "  CqlWindow(window=[RANGE 10000 ms])",
        "    CqlExchange(distribution=[hash[1]], keys=[[1]], partitions=[6])",
        "      LogicalTableScan(table=[[Orders]])"), str(ExchangeRule.apply(countBy("Orders", "item"))));
  }

  @Test void groupByTheKeyOrMoreNeedsNone() {
    RelNode byKey = countBy("Orders", "customer");
    assertSame(byKey, ExchangeRule.apply(byKey));
    RelNode byMore = countBy("Orders", "item", "customer");
    assertSame(byMore, ExchangeRule.apply(byMore));
  }

  @Test void oneTaskForAnUngroupedAggregateAndAGlobalRowsWindow() {
    RelNode count = countBy("Orders");
    assertEquals(lines(
        "LogicalAggregate(group=[{}], n=[COUNT()])",
        "  CqlWindow(window=[RANGE 10000 ms])",
        "    CqlExchange(distribution=[single], keys=[[]], partitions=[1])",
        "      LogicalTableScan(table=[[Orders]])"), str(ExchangeRule.apply(count)));
    RelNode rows = window("Orders", WindowSpec.rows(5)).build();
    assertEquals(lines(
        "CqlWindow(window=[ROWS 5])",
        "  CqlExchange(distribution=[single], keys=[[]], partitions=[1])",
        "    LogicalTableScan(table=[[Orders]])"), str(ExchangeRule.apply(rows)));
  }

  @Test void partitionByHashesOnItsColumnsUnlessTheKeyIsAmongThem() {
    RelNode byItem = window("Orders", WindowSpec.partition(List.of(1), 3)).build();
    assertEquals(lines(
        "CqlWindow(window=[PARTITION BY $1 ROWS 3])",
        "  CqlExchange(distribution=[hash[1]], keys=[[1]], partitions=[6])",
        "    LogicalTableScan(table=[[Orders]])"), str(ExchangeRule.apply(byItem)));
    RelNode byKey = window("Orders", WindowSpec.partition(List.of(1, 0), 3)).build();
    assertSame(byKey, ExchangeRule.apply(byKey));
  }

  @Test void sessionsByAColumnHashOnItAndSessionsOfAllTuplesRunInOneTask() {
    RelNode byItem = window("Orders", WindowSpec.session(List.of(1), 30_000)).build();
    assertEquals(lines(
        "CqlWindow(window=[PARTITION BY $1 SESSION 30000 ms])",
        "  CqlExchange(distribution=[hash[1]], keys=[[1]], partitions=[6])",
        "    LogicalTableScan(table=[[Orders]])"), str(ExchangeRule.apply(byItem)));
    RelNode byKey = window("Orders", WindowSpec.session(List.of(0), 30_000)).build();
    assertSame(byKey, ExchangeRule.apply(byKey));
    RelNode all = window("Orders", WindowSpec.session(List.of(), 30_000)).build();
    assertEquals(lines(
        "CqlWindow(window=[SESSION 30000 ms])",
        "  CqlExchange(distribution=[single], keys=[[]], partitions=[1])",
        "    LogicalTableScan(table=[[Orders]])"), str(ExchangeRule.apply(all)));
  }

  @Test void coPartitionedStreamsJoinWithoutAnExchange() {
    RelNode j = join("Orders", "customer", "Payments", "customer", JoinRelType.INNER);
    assertSame(j, ExchangeRule.apply(j));
  }

  @Test void onlyTheInputNotHashedOnItsJoinKeyIsExchanged() {
    RelNode j = join("Orders", "item", "Items", "sku", JoinRelType.INNER);
    assertEquals(lines(
        "CqlRelToStream(kind=[ISTREAM])",
        "  LogicalJoin(condition=[=($1, $3)], joinType=[inner])",
        "    CqlWindow(window=[RANGE 10000 ms])",
        "      CqlExchange(distribution=[hash[1]], keys=[[1]], partitions=[6])",
        "        LogicalTableScan(table=[[Orders]])",
        "    CqlWindow(window=[RANGE 10000 ms])",
        "      LogicalTableScan(table=[[Items]])"), str(ExchangeRule.apply(j)));
  }

  @Test void bothInputsAreExchangedWhenNeitherIsHashedOnTheJoinKey() {
    RelNode j = join("Orders", "qty", "Payments", "amount", JoinRelType.INNER);
    String plan = str(ExchangeRule.apply(j));
    assertEquals(2, plan.split("CqlExchange\\(distribution=\\[hash", -1).length - 1, plan);
  }

  @Test void aSinglePartitionStreamNeedsNoExchange() {
    window("Local", WindowSpec.rows(3));
    RelNode plan = b.aggregate(b.groupKey(), b.countStar("n")).build();
    assertSame(plan, ExchangeRule.apply(plan));
  }

  @Test void unknownPartitioningIsHashedForAGroupByButNotForAFilter() {
    RelNode grouped = countBy("Clicks", "page");
    assertEquals(lines(
        "LogicalAggregate(group=[{0}], n=[COUNT()])",
        "  CqlWindow(window=[RANGE 10000 ms])",
        "    CqlExchange(distribution=[hash[0]], keys=[[0]], partitions=[4])",
        "      LogicalTableScan(table=[[Clicks]])"), str(ExchangeRule.apply(grouped)));
    RelNode filtered = b.scan("Clicks")
        .filter(b.call(SqlStdOperatorTable.GREATER_THAN, b.field("page"), b.literal(3)))
        .build();
    assertSame(filtered, ExchangeRule.apply(filtered));
  }

  @Test void aTableJoinsAnyStreamButItsUnmatchedRowsAreEmittedOnce() {
    window("Orders", WindowSpec.now());
    b.scan("Cars");
    b.join(JoinRelType.INNER, b.equals(b.field(2, 0, "item"), b.field(2, 1, "car_id")));
    RelNode inner = b.build();
    assertSame(inner, ExchangeRule.apply(inner));
    window("Orders", WindowSpec.now());
    b.scan("Cars");
    b.join(JoinRelType.RIGHT, b.equals(b.field(2, 0, "item"), b.field(2, 1, "car_id")));
    String right = str(ExchangeRule.apply(b.build()));
    assertEquals(true, right.contains("CqlExchange(distribution=[single]"), right);
  }

  @Test void aWindowUsedTwiceIsExchangedAboveIt() {
    CqlWindow shared = CqlWindow.create(b.scan("Orders").build(), WindowSpec.range(10_000));
    b.push(shared).push(shared);
    b.join(JoinRelType.INNER, b.equals(b.field(2, 0, "item"), b.field(2, 1, "qty")));
    String plan = str(ExchangeRule.apply(b.build()));
    assertEquals(lines(
        "LogicalJoin(condition=[=($1, $5)], joinType=[inner])",
        "  CqlExchange(distribution=[hash[1]], keys=[[1]], partitions=[6])",
        "    CqlWindow(window=[RANGE 10000 ms])",
        "      LogicalTableScan(table=[[Orders]])",
        "  CqlExchange(distribution=[hash[2]], keys=[[2]], partitions=[6])",
        "    CqlWindow(window=[RANGE 10000 ms])",
        "      LogicalTableScan(table=[[Orders]])"), plan);
  }
}
