package io.pycql.planner.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigDecimal;
import java.util.List;
import org.apache.calcite.avatica.util.TimeUnit;
import org.apache.calcite.jdbc.JavaTypeFactoryImpl;
import org.apache.calcite.rel.type.RelDataType;
import org.apache.calcite.rel.type.RelDataTypeFactory;
import org.apache.calcite.rex.RexBuilder;
import org.apache.calcite.rex.RexNode;
import org.apache.calcite.sql.SqlIntervalQualifier;
import org.apache.calcite.sql.fun.SqlStdOperatorTable;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.sql.type.SqlTypeName;
import org.apache.calcite.util.DateString;
import org.apache.calcite.util.TimestampString;
import org.junit.jupiter.api.Test;

class RexJsonTest {
  private final RelDataTypeFactory types = new JavaTypeFactoryImpl();
  private final RexBuilder rex = new RexBuilder(types);
  private final RelDataType intType = types.createTypeWithNullability(
      types.createSqlType(SqlTypeName.INTEGER), true);
  private final RelDataType doubleType = types.createSqlType(SqlTypeName.DOUBLE);

  private static String json(RexNode e) {
    return RexJson.toJson(e).toString().replace('"', '\'');
  }

  @Test void inputsParamsAndLiterals() {
    assertEquals("{'kind':'input','index':3,'type':'INTEGER','nullable':true}",
        json(rex.makeInputRef(intType, 3)));
    assertEquals("{'kind':'param','index':0,'type':'INTEGER','nullable':true}",
        json(rex.makeDynamicParam(intType, 0)));
    assertEquals("{'kind':'literal','value':'abc','type':'CHAR','nullable':false,"
        + "'precision':3}", json(rex.makeLiteral("abc")));
    assertEquals("{'kind':'literal','value':true,'type':'BOOLEAN','nullable':false}",
        json(rex.makeLiteral(true)));
    assertEquals("{'kind':'literal','value':null,'type':'INTEGER','nullable':true}",
        json(rex.makeNullLiteral(intType)));
    assertEquals("{'kind':'literal','value':12.50,'type':'DECIMAL','nullable':false,"
        + "'precision':4,'scale':2}", json(rex.makeExactLiteral(new BigDecimal("12.50"))));
    assertEquals("{'kind':'literal','value':1.5,'type':'DOUBLE','nullable':false}",
        json(rex.makeApproxLiteral(new BigDecimal("1.5"))));
  }

  @Test void temporalLiteralsAreMilliseconds() {
    assertEquals(86_400_000L, RexJson.toJson(rex.makeDateLiteral(new DateString("1970-01-02")))
        .get("value").asLong());
    assertEquals(1_000L, RexJson.toJson(rex.makeTimestampLiteral(
        new TimestampString("1970-01-01 00:00:01"), 0)).get("value").asLong());
    RexNode thirtySeconds = rex.makeIntervalLiteral(new BigDecimal(30_000),
        new SqlIntervalQualifier(TimeUnit.SECOND, null, SqlParserPos.ZERO));
    assertEquals("{'kind':'literal','value':30000,'type':'INTERVAL_DAY_SECOND','nullable':false}",
        json(thirtySeconds));
    RexNode twoMonths = rex.makeIntervalLiteral(new BigDecimal(2),
        new SqlIntervalQualifier(TimeUnit.MONTH, null, SqlParserPos.ZERO));
    assertEquals(2, RexJson.toJson(twoMonths).get("value").asInt());
    assertEquals("INTERVAL_YEAR_MONTH", RexJson.toJson(twoMonths).get("type").asText());
  }

  @Test void integerDivisionIsMarked() {
    RexNode ints = rex.makeCall(SqlStdOperatorTable.DIVIDE, rex.makeInputRef(intType, 0),
        rex.makeExactLiteral(BigDecimal.valueOf(2)));
    assertEquals(true, RexJson.toJson(ints).get("integer_division").asBoolean());
    RexNode doubles = rex.makeCall(SqlStdOperatorTable.DIVIDE,
        rex.makeInputRef(doubleType, 0), rex.makeApproxLiteral(new BigDecimal("2.0")));
    assertEquals(false, RexJson.toJson(doubles).has("integer_division"));
  }

  @Test void caseCastAndLike() {
    RexNode x = rex.makeInputRef(intType, 0);
    RexNode caseExpr = rex.makeCall(SqlStdOperatorTable.CASE,
        rex.makeCall(SqlStdOperatorTable.GREATER_THAN, x, rex.makeExactLiteral(BigDecimal.ONE)),
        rex.makeLiteral("big"), rex.makeLiteral("small"));
    var c = RexJson.toJson(caseExpr);
    assertEquals("CASE", c.get("op").asText());
    assertEquals(3, c.get("operands").size());
    RexNode cast = rex.makeCast(types.createTypeWithNullability(
        types.createSqlType(SqlTypeName.VARCHAR, 5), true), x);
    assertEquals("{'kind':'call','op':'CAST','sqlkind':'CAST','operands':["
        + "{'kind':'input','index':0,'type':'INTEGER','nullable':true}],"
        + "'type':'VARCHAR','nullable':true,'precision':5}", json(cast));
    RexNode like = rex.makeCall(SqlStdOperatorTable.LIKE,
        rex.makeInputRef(types.createSqlType(SqlTypeName.VARCHAR, 20), 1), rex.makeLiteral("a%"));
    assertEquals("LIKE", RexJson.toJson(like).get("sqlkind").asText());
  }

  @Test void searchIsExpanded() {
    RexNode x = rex.makeInputRef(intType, 0);
    RexNode in = rex.makeIn(x, List.of(rex.makeExactLiteral(BigDecimal.ONE),
        rex.makeExactLiteral(BigDecimal.TEN)));
    assertEquals("SEARCH", in.getKind().name());
    var j = RexJson.toJson(in);
    assertEquals("OR", j.get("op").asText());
    assertEquals("EQUALS", j.get("operands").get(0).get("sqlkind").asText());
  }

  @Test void correlationVariablesAreRejected() {
    RexNode correl = rex.makeCorrel(types.builder().add("a", intType).build(),
        new org.apache.calcite.rel.core.CorrelationId(0));
    assertThrows(UnsupportedOperationException.class, () -> RexJson.toJson(correl));
  }
}
