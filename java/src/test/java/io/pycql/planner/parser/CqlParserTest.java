package io.pycql.planner.parser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pycql.planner.ddl.SqlCreateCqlSource;
import io.pycql.planner.ddl.SqlCreateCqlView;
import io.pycql.planner.ddl.SqlDropCqlObject;
import io.pycql.planner.ddl.SqlShowCql;
import io.pycql.planner.rel.RelToStreamKind;
import io.pycql.planner.rel.WindowSpec;
import io.pycql.planner.validate.CqlAnalyzer;
import java.util.List;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlExplain;
import org.apache.calcite.sql.SqlExplainFormat;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlJoin;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlSelect;
import org.apache.calcite.sql.parser.SqlParseException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The CQL grammar: windows, relation-to-stream operators, DDL, EXPLAIN, errors. */
class CqlParserTest {
  private static SqlNode parse(String sql) throws SqlParseException {
    return CqlAnalyzer.parse(sql);
  }

  /** The window after the single FROM item of {@code sql}. */
  private static SqlCqlWindow windowOf(String sql) throws SqlParseException {
    SqlSelect select = (SqlSelect) parse(sql);
    SqlNode from = select.getFrom();
    if (from.getKind() == SqlKind.AS) {
      from = ((SqlCall) from).operand(0);
    }
    assertEquals(SqlKind.OVER, from.getKind(), "FROM item is " + from);
    return assertInstanceOf(SqlCqlWindow.class, ((SqlCall) from).operand(1));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "select * from S [NOW]                              | NOW",
      "select * from S [now] as X                         | NOW",
      "select * from S [Now] X                            | NOW",
      "select * from S [UNBOUNDED]                        | UNBOUNDED",
      "select * from S [RANGE UNBOUNDED]                  | UNBOUNDED",
      "select * from S [RANGE 30 SECONDS]                 | RANGE 30000 ms",
      "select * from S [RANGE 30]                         | RANGE 30000 ms",
      "select * from S [range 1 second]                   | RANGE 1000 ms",
      "select * from S [RANGE 250 MILLISECONDS]           | RANGE 250 ms",
      "select * from S [RANGE 1 MILLISECOND]              | RANGE 1 ms",
      "select * from S [RANGE 2 MINUTES]                  | RANGE 120000 ms",
      "select * from S [RANGE 1 minute]                   | RANGE 60000 ms",
      "select * from S [RANGE 1 HOUR]                     | RANGE 3600000 ms",
      "select * from S [RANGE 2 hours]                    | RANGE 7200000 ms",
      "select * from S [RANGE 1 DAY]                      | RANGE 86400000 ms",
      "select * from S [RANGE 2 days]                     | RANGE 172800000 ms",
      "select * from S [RANGE 0.5 SECONDS]                | RANGE 500 ms",
      "select * from S [RANGE 1 HOUR SLIDE 5 MINUTES]     | RANGE 3600000 ms SLIDE 300000 ms",
      "select * from S [RANGE 10 SLIDE 5]                 | RANGE 10000 ms SLIDE 5000 ms",
      "select * from S [ROWS 10]                          | ROWS 10",
      "select * from S [rows 0] s1                        | ROWS 0",
      "select * from S [ROWS 4 SLIDE 2]                   | ROWS 4 SLIDE 2",
      "select * from S [rows 3 slide 3] AS X              | ROWS 3 SLIDE 3",
      "select * from S [SESSION 30 SECONDS]               | SESSION 30000 ms",
      "select * from S [session 10]                       | SESSION 10000 ms",
      "select * from S [SESSION 250 MILLISECONDS] X       | SESSION 250 ms",
  })
  void windows(String sql, String expected) throws SqlParseException {
    SqlCqlWindow w = windowOf(sql);
    assertEquals(expected, w.toSpec(List.of()).toString());
  }

  @Test void partitionWindow() throws SqlParseException {
    SqlCqlWindow w = windowOf("select * from S [PARTITION BY a, b ROWS 3] AS X");
    assertEquals(WindowSpec.Kind.PARTITION, w.kind);
    assertEquals(3, w.rows);
    assertEquals(2, w.partitionBy.size());
    assertEquals("b", ((SqlIdentifier) w.partitionBy.get(1)).getSimple());
    assertEquals("PARTITION BY $0, $1 ROWS 3", w.toSpec(List.of(0, 1)).toString());
  }

  @Test void partitionedSlideAndSessionWindows() throws SqlParseException {
    SqlCqlWindow w = windowOf("select * from S [PARTITION BY a ROWS 3 SLIDE 2]");
    assertEquals(WindowSpec.Kind.PARTITION, w.kind);
    assertEquals("PARTITION BY $0 ROWS 3 SLIDE 2", w.toSpec(List.of(0)).toString());
    assertEquals("[PARTITION BY a ROWS 3 SLIDE 2]", w.canonical());
    w = windowOf("select * from S [PARTITION BY a, b SESSION 1 MINUTE] AS X");
    assertEquals(WindowSpec.Kind.SESSION, w.kind);
    assertEquals(60000, w.gapMillis);
    assertEquals("PARTITION BY $0, $1 SESSION 60000 ms", w.toSpec(List.of(0, 1)).toString());
    assertEquals("[PARTITION BY a, b SESSION 60000 MILLISECONDS]", w.canonical());
    assertEquals("[PARTITION BY a, b SESSION 1 MINUTE]", w.describe());
    assertEquals("1 MINUTE", w.gapText);
  }

  @Test void windowsInJoins() throws SqlParseException {
    SqlSelect select = (SqlSelect) parse(
        "select * from S1 [NOW] a join S2 [ROWS 2] on a.x = S2.x, R");
    SqlJoin comma = (SqlJoin) select.getFrom();
    SqlJoin inner = (SqlJoin) comma.getLeft();
    assertEquals(SqlKind.AS, inner.getLeft().getKind());
    assertEquals(SqlKind.OVER, ((SqlCall) inner.getLeft()).operand(0).getKind());
    assertEquals(SqlKind.OVER, inner.getRight().getKind());
    assertInstanceOf(SqlIdentifier.class, comma.getRight());
  }

  @Test void explainAnalyze() throws SqlParseException {
    assertInstanceOf(SqlCqlExplainAnalyze.class,
        parse("EXPLAIN ANALYZE SELECT ISTREAM(*) FROM S [NOW]"));
    assertInstanceOf(SqlCqlExplainAnalyze.class,
        parse("explain analyze plan for select * from S"));
    SqlNode plain = parse("EXPLAIN PLAN FOR SELECT * FROM S");
    assertEquals(SqlExplain.class, plain.getClass());
    // ANALYZE stays usable as a name
    assertInstanceOf(SqlSelect.class, parse("SELECT analyze FROM S"));
  }

  @Test void relToStreamAroundQuery() throws SqlParseException {
    SqlCqlRelToStream r = assertInstanceOf(SqlCqlRelToStream.class,
        parse("Rstream(select * from S1 [Now], S2 where S1.a = S2.a)"));
    assertEquals(RelToStreamKind.RSTREAM, r.kind);
    assertInstanceOf(SqlSelect.class, r.query);
    assertEquals(RelToStreamKind.ISTREAM,
        ((SqlCqlRelToStream) parse("ISTREAM(select a from S)")).kind);
    assertEquals(RelToStreamKind.DSTREAM,
        ((SqlCqlRelToStream) parse("dstream (select a from S [rows 1])")).kind);
  }

  @Test void relToStreamInSelectList() throws SqlParseException {
    SqlSelect select = (SqlSelect) parse("SELECT ISTREAM(*) FROM S [RANGE 30 SECONDS]");
    assertEquals(1, select.getSelectList().size());
    SqlCall call = (SqlCall) select.getSelectList().get(0);
    assertEquals("ISTREAM", call.getOperator().getName().toUpperCase());
    assertTrue(((SqlIdentifier) call.operand(0)).isStar());
    select = (SqlSelect) parse("SELECT RSTREAM(a, b) FROM S");
    assertEquals(2, ((SqlCall) select.getSelectList().get(0)).operandCount());
  }

  @Test void ddl() throws SqlParseException {
    SqlCreateCqlSource s = assertInstanceOf(SqlCreateCqlSource.class, parse(
        "CREATE STREAM IF NOT EXISTS S (a INTEGER NOT NULL, b VARCHAR(10)) "
        + "WITH (topic = 'st', 'Format' = 'csv', partitions = 3)"));
    assertTrue(s.stream);
    assertTrue(s.ifNotExists);
    assertEquals(2, s.columns.size());
    assertEquals(false, s.columns.get(0).nullable);
    assertEquals("{topic=st, format=csv, partitions=3}", s.options.toString());
    SqlCreateCqlSource t = assertInstanceOf(SqlCreateCqlSource.class,
        parse("create table R (a int, b int, primary key (a, b))"));
    assertEquals(false, t.stream);
    assertEquals(2, t.primaryKey.size());
    SqlCreateCqlView v = assertInstanceOf(SqlCreateCqlView.class,
        parse("CREATE OR REPLACE VIEW V (x, y) AS ISTREAM(select a, b from S [NOW])"));
    assertTrue(v.getReplace());
    assertEquals(2, v.columnNames.size());
    assertInstanceOf(SqlCqlRelToStream.class, v.query);
    SqlDropCqlObject d = assertInstanceOf(SqlDropCqlObject.class,
        parse("DROP STREAM IF EXISTS S"));
    assertEquals("stream", d.object);
    assertTrue(d.ifExists);
    assertEquals("table", ((SqlDropCqlObject) parse("drop table R")).object);
    assertEquals("view", ((SqlDropCqlObject) parse("drop view V")).object);
    for (String what : List.of("streams", "tables", "views", "queries")) {
      assertEquals(what, ((SqlShowCql) parse("SHOW " + what)).what);
    }
  }

  @Test void explainForms() throws SqlParseException {
    SqlExplain e = assertInstanceOf(SqlExplain.class, parse("EXPLAIN select * from S [NOW]"));
    assertEquals(SqlExplainFormat.TEXT, e.getFormat());
    e = assertInstanceOf(SqlExplain.class, parse("EXPLAIN PLAN FOR select * from S"));
    assertEquals(SqlExplainFormat.TEXT, e.getFormat());
    e = assertInstanceOf(SqlExplain.class,
        parse("EXPLAIN PLAN AS JSON FOR ISTREAM(select * from S [NOW])"));
    assertEquals(SqlExplainFormat.JSON, e.getFormat());
    assertInstanceOf(SqlCqlRelToStream.class, e.getExplicandum());
    e = assertInstanceOf(SqlExplain.class, parse("explain istream(select * from S)"));
    assertInstanceOf(SqlCqlRelToStream.class, e.getExplicandum());
  }

  @Test void dynamicParameters() throws SqlParseException {
    SqlSelect s = (SqlSelect) parse("select * from S [RANGE 10] where a > ? and b = ?");
    assertEquals(SqlKind.AND, s.getWhere().getKind());
  }

  @Test void noWindow() throws SqlParseException {
    SqlSelect select = (SqlSelect) parse("select * from S");
    assertInstanceOf(SqlIdentifier.class, select.getFrom());
    assertNull(select.getWhere());
  }

  private static SqlParseException error(String sql) {
    return assertThrows(SqlParseException.class, () -> parse(sql));
  }

  @Test void misspeltUnitPointsAtTheUnit() {
    SqlParseException e = error("select *\nfrom S [RANGE 30 SECODNS]");
    assertTrue(e.getMessage().startsWith("Unknown time unit 'SECODNS'"), e.getMessage());
    assertEquals(2, e.getPos().getLineNum());
    assertEquals(18, e.getPos().getColumnNum());
    assertEquals(24, e.getPos().getEndColumnNum());
  }

  @Test void badWindows() {
    SqlParseException e = error("select * from S [ROWS 2.5]");
    assertTrue(e.getMessage().startsWith("Row count must be a whole number"), e.getMessage());
    assertEquals(23, e.getPos().getColumnNum());
    e = error("select * from S [ROWS]");
    assertEquals(22, e.getPos().getColumnNum());
    e = error("select * from S [RANGE 0.0001 SECONDS]");
    assertTrue(e.getMessage().startsWith("Duration must be a whole number of milliseconds"));
    e = error("select * from S [SOMETIMES]");
    assertEquals(18, e.getPos().getColumnNum());
    e = error("select * from S [NOW");
    assertEquals(1, e.getPos().getLineNum());
    e = error("select * from S [ROWS 2 SLIDE 1.5]");
    assertTrue(e.getMessage().startsWith("Row count must be a whole number"), e.getMessage());
    assertEquals(31, e.getPos().getColumnNum());
    e = error("select * from S [SESSION]");
    assertEquals(25, e.getPos().getColumnNum());
    e = error("select * from S [SESSION 10 SECONDS SLIDE 5]");
    assertEquals(37, e.getPos().getColumnNum());
  }

  @Test void ddlErrors() {
    SqlParseException e = error("create stream S (a int, primary key (a))");
    assertTrue(e.getMessage().contains("A stream has no PRIMARY KEY"), e.getMessage());
    e = error("create or replace stream S (a int)");
    assertTrue(e.getMessage().contains("only supported for views"), e.getMessage());
    e = error("create table R (a int, primary key (a), primary key (a))");
    assertTrue(e.getMessage().contains("Only one PRIMARY KEY"), e.getMessage());
  }

  @Test void jobStatements() throws SqlParseException {
    io.pycql.planner.ddl.SqlCqlTerminate t = assertInstanceOf(
        io.pycql.planner.ddl.SqlCqlTerminate.class, parse("TERMINATE CSAS_Big_1"));
    assertEquals("CSAS_Big_1", t.queryId);
    assertEquals("q1", ((io.pycql.planner.ddl.SqlCqlTerminate) parse("terminate 'q1'")).queryId);
    assertNull(((io.pycql.planner.ddl.SqlCqlTerminate) parse("TERMINATE ALL")).queryId);
    // TERMINATE is a non-reserved keyword: still a column, stream or alias name
    SqlSelect select = (SqlSelect) parse("select terminate, t.terminate as terminate from terminate t");
    assertEquals("terminate", ((SqlIdentifier) select.getSelectList().get(0)).getSimple());
    SqlCqlExplainAnalyzeQueryId e = assertInstanceOf(SqlCqlExplainAnalyzeQueryId.class,
        parse("EXPLAIN ANALYZE \"CSAS_1\""));
    assertEquals("CSAS_1", e.queryId);
    assertInstanceOf(SqlCqlExplainAnalyze.class, parse("EXPLAIN ANALYZE select * from S"));
    io.pycql.planner.ddl.SqlCreateCqlAs c = assertInstanceOf(
        io.pycql.planner.ddl.SqlCreateCqlAs.class,
        parse("CREATE STREAM IF NOT EXISTS X WITH (topic = 'x') AS ISTREAM(select * from S [NOW])"));
    assertTrue(c.stream);
    assertTrue(c.ifNotExists);
    assertEquals("x", c.options.get("topic"));
    assertInstanceOf(SqlCqlRelToStream.class, c.query);
    c = (io.pycql.planner.ddl.SqlCreateCqlAs) parse("create table X as select k from S [ROWS 3]");
    assertTrue(!c.stream);
    assertInstanceOf(SqlSelect.class, c.query);
    assertInstanceOf(SqlCreateCqlSource.class, parse("create table X (a int) with (topic = 'x')"));
    org.apache.calcite.sql.SqlInsert ins = assertInstanceOf(org.apache.calcite.sql.SqlInsert.class,
        parse("insert into T ISTREAM(select * from S [NOW])"));
    assertInstanceOf(SqlCqlRelToStream.class, ins.getSource());
    assertEquals(SqlKind.VALUES,
        ((org.apache.calcite.sql.SqlInsert) parse("insert into T values (1)")).getSource().getKind());
  }

  /** SQL's precedence in FROM: the comma binds looser than JOIN (a patched FromClause). */
  @Test void commaBindsLooserThanJoin() throws SqlParseException {
    SqlSelect select = (SqlSelect) parse("select * from A [ROWS 3] left join B [ROWS 3] "
        + "on A.x = B.x, C [ROWS 3] right join D [ROWS 5] on C.x = D.x, E");
    SqlJoin top = assertInstanceOf(SqlJoin.class, select.getFrom());
    assertEquals("COMMA", top.getJoinType().name());
    assertEquals(SqlKind.IDENTIFIER, top.getRight().getKind());  // E
    SqlJoin pair = assertInstanceOf(SqlJoin.class, top.getLeft());
    assertEquals("COMMA", pair.getJoinType().name());
    assertEquals("LEFT", assertInstanceOf(SqlJoin.class, pair.getLeft()).getJoinType().name());
    assertEquals("RIGHT", assertInstanceOf(SqlJoin.class, pair.getRight()).getJoinType().name());
    // joins without commas stay left-deep
    SqlJoin chain = assertInstanceOf(SqlJoin.class, ((SqlSelect) parse(
        "select * from A join B on A.x = B.x left join C on B.x = C.x")).getFrom());
    assertEquals("LEFT", chain.getJoinType().name());
    assertEquals("INNER", assertInstanceOf(SqlJoin.class, chain.getLeft()).getJoinType().name());
  }

  /** ISTREAM(q1) UNION ALL ISTREAM(q2): a set operation whose operands are the operators. */
  @Test void streamSetOperations() throws SqlParseException {
    SqlCall union = (SqlCall) parse("ISTREAM(select a from S [NOW]) union all "
        + "RSTREAM(select a from T [NOW]) union select a from U");
    assertEquals(SqlKind.UNION, union.getKind());
    SqlCall inner = assertInstanceOf(SqlCall.class, union.operand(0));
    assertEquals(SqlKind.UNION, inner.getKind());
    assertInstanceOf(SqlCqlRelToStream.class, inner.operand(0));
    assertInstanceOf(SqlCqlRelToStream.class, inner.operand(1));
    assertInstanceOf(SqlSelect.class, union.operand(1));
    SqlExplain explain = assertInstanceOf(SqlExplain.class,
        parse("explain plan for DSTREAM(select a from S [ROWS 2]) union all ISTREAM(select a from S)"));
    assertEquals(SqlKind.UNION, explain.getExplicandum().getKind());
  }

  /** FROM (ISTREAM(...)) [window] AS a: a stream-valued subquery (the TableRef3 patch). */
  @Test void streamSubqueryInFrom() throws SqlParseException {
    SqlCqlWindow w = windowOf("select * from (ISTREAM(select * from S [NOW])) [RANGE 1 SECOND] as A");
    assertEquals(WindowSpec.Kind.RANGE, w.kind);
    SqlSelect select = (SqlSelect) parse("select * from (RSTREAM(select a from S [NOW]) "
        + "union all ISTREAM(select a from T [NOW])) as U, (select 1 from R) as Q");
    SqlJoin join = assertInstanceOf(SqlJoin.class, select.getFrom());
    SqlNode left = ((SqlCall) join.getLeft()).operand(0);
    assertEquals(SqlKind.UNION, left.getKind());
    assertInstanceOf(SqlSelect.class, ((SqlCall) join.getRight()).operand(0));
  }

  /** An interval column: INTERVAL and a qualifier. */
  @Test void intervalColumns() throws SqlParseException {
    SqlCreateCqlSource c = assertInstanceOf(SqlCreateCqlSource.class, parse(
        "create stream I (a int, gap interval day to second not null, ym interval month, b varbinary(4))"));
    assertNull(c.columns.get(1).type);
    assertEquals("DAY_TO_SECOND", c.columns.get(1).interval.timeUnitRange.name());
    assertTrue(!c.columns.get(1).nullable);
    assertEquals("MONTH", c.columns.get(2).interval.timeUnitRange.name());
    assertNull(c.columns.get(3).interval);
  }
}
