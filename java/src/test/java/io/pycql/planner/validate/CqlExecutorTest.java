package io.pycql.planner.validate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import org.apache.calcite.rel.type.RelDataType;
import org.apache.calcite.rex.RexBuilder;
import org.apache.calcite.rex.RexLiteral;
import org.apache.calcite.rex.RexNode;
import org.apache.calcite.sql.fun.SqlStdOperatorTable;
import org.apache.calcite.sql.type.SqlTypeName;
import org.junit.jupiter.api.Test;

/** The constant reducer and the type system: REAL constants, AVG, ragged literals. */
class CqlExecutorTest {
  private final CqlTypeFactory types = new CqlTypeFactory();
  private final RexBuilder rex = new RexBuilder(types);
  private final RelDataType real = types.createSqlType(SqlTypeName.REAL);

  private RexNode reduce(RexNode e) {
    List<RexNode> out = new ArrayList<>();
    CqlExecutor.INSTANCE.reduce(rex, List.of(e), out);
    return out.get(0);
  }

  @Test void aCastToRealOfADecimalLiteralIsTheLiteralsValue() {
    RexNode cast = rex.makeAbstractCast(real, rex.makeExactLiteral(new BigDecimal("0.2")),
        false);
    RexLiteral lit = (RexLiteral) reduce(cast);
    assertEquals(SqlTypeName.REAL, lit.getType().getSqlTypeName());
    assertEquals(0, new BigDecimal("0.2").compareTo(lit.getValueAs(BigDecimal.class)));
    RexNode text = rex.makeAbstractCast(real, rex.makeLiteral("0.2"), false);
    assertEquals(0, new BigDecimal("0.2").compareTo(
        ((RexLiteral) reduce(text)).getValueAs(BigDecimal.class)));
  }

  @Test void otherConstantsAreLeftToTheRuntime() {
    RexNode division = rex.makeCall(SqlStdOperatorTable.DIVIDE,
        rex.makeExactLiteral(BigDecimal.ONE), rex.makeExactLiteral(BigDecimal.ZERO));
    assertSame(division, reduce(division));
  }

  @Test void avgOfAnExactTypeIsADouble() {
    RelDataType integer = types.createSqlType(SqlTypeName.INTEGER);
    assertEquals(SqlTypeName.DOUBLE,
        types.getTypeSystem().deriveAvgAggType(types, integer).getSqlTypeName());
    RelDataType decimal = types.createSqlType(SqlTypeName.DECIMAL, 5, 2);
    assertEquals(SqlTypeName.DOUBLE,
        types.getTypeSystem().deriveAvgAggType(types, decimal).getSqlTypeName());
    assertEquals(SqlTypeName.REAL,
        types.getTypeSystem().deriveAvgAggType(types, real).getSqlTypeName());
  }

  @Test void charactersOfDifferentLengthsMeetAsVarchar() {
    RelDataType common = types.leastRestrictive(List.of(
        types.createSqlType(SqlTypeName.CHAR, 3), types.createSqlType(SqlTypeName.CHAR, 6)));
    assertEquals(SqlTypeName.VARCHAR, common.getSqlTypeName());
    assertEquals(6, common.getPrecision());
  }
}
