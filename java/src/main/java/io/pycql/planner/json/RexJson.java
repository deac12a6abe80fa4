package io.pycql.planner.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.calcite.rel.type.RelDataType;
import org.apache.calcite.rel.type.RelDataTypeSystem;
import org.apache.calcite.rex.RexBuilder;
import org.apache.calcite.rex.RexCall;
import org.apache.calcite.rex.RexDynamicParam;
import org.apache.calcite.rex.RexInputRef;
import org.apache.calcite.rex.RexLiteral;
import org.apache.calcite.rex.RexNode;
import org.apache.calcite.rex.RexUtil;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.type.SqlTypeFactoryImpl;
import org.apache.calcite.sql.type.SqlTypeFamily;
import org.apache.calcite.sql.type.SqlTypeName;
import org.apache.calcite.util.DateString;
import org.apache.calcite.util.TimeString;
import org.apache.calcite.util.TimestampString;

/**
 * Expressions as JSON (docs/plan-json.md, "An expression").
 *
 * <pre>{@code
 * RexJson.toJson(rexBuilder.makeCall(SqlStdOperatorTable.GREATER_THAN, ref1, lit65));
 * // {"kind":"call","op":">","sqlkind":"GREATER_THAN","operands":[
 * //   {"kind":"input","index":1,"type":"INTEGER","nullable":true},
 * //   {"kind":"literal","value":65,"type":"INTEGER","nullable":false}],
 * //  "type":"BOOLEAN","nullable":true}
 * }</pre>
 */
public final class RexJson {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final RexBuilder REX_BUILDER =
      new RexBuilder(new SqlTypeFactoryImpl(RelDataTypeSystem.DEFAULT));

  private RexJson() {
  }

  /** The JSON form of {@code e}; SEARCH calls are expanded into comparisons first. */
  public static JsonNode toJson(RexNode e) {
    ObjectNode o = F.objectNode();
    if (e instanceof RexInputRef ref) {
      o.put("kind", "input");
      o.put("index", ref.getIndex());
    } else if (e instanceof RexDynamicParam param) {
      o.put("kind", "param");
      o.put("index", param.getIndex());
    } else if (e instanceof RexLiteral lit) {
      o.put("kind", "literal");
      o.set("value", literalValue(lit));
    } else if (e instanceof RexCall call) {
      if (call.getKind() == SqlKind.SEARCH) {
        return toJson(RexUtil.expandSearch(REX_BUILDER, null, call));
      }
      o.put("kind", "call");
      o.put("op", call.getOperator().getName());
      o.put("sqlkind", call.getKind().name());
      ArrayNode operands = o.putArray("operands");
      for (RexNode operand : call.getOperands()) {
        operands.add(toJson(operand));
      }
      if (call.getKind() == SqlKind.DIVIDE && call.getOperands().stream()
          .allMatch(x -> SqlTypeName.INT_TYPES.contains(x.getType().getSqlTypeName()))) {
        o.put("integer_division", true);
      }
    } else {
      throw new UnsupportedOperationException("pycql cannot evaluate the expression " + e
          + " (" + e.getKind() + ") in a plan");
    }
    putType(o, e.getType());
    if (e.getKind() == SqlKind.CAST && !e.getType().isNullable()
        && ((RexCall) e).getOperands().get(0).getType().isNullable()) {
      // Calcite's simplifier may type CAST(x AS T NOT NULL) over a nullable x (from
      // COALESCE(x, x), for one): the value can still be NULL, so say so.
      o.put("nullable", true);
    }
    return o;
  }

  /** Adds {@code type}, {@code nullable} and, where the type has them, precision and scale. */
  static void putType(ObjectNode o, RelDataType type) {
    o.put("type", typeName(type));
    o.put("nullable", type.isNullable());
    SqlTypeName name = type.getSqlTypeName();
    if (name.allowsPrec() && type.getPrecision() != RelDataType.PRECISION_NOT_SPECIFIED
        && !SqlTypeName.INTERVAL_TYPES.contains(name)) {
      o.put("precision", type.getPrecision());
    }
    if (name.allowsScale() && type.getScale() != RelDataType.SCALE_NOT_SPECIFIED
        && !SqlTypeName.INTERVAL_TYPES.contains(name)) {
      o.put("scale", type.getScale());
    }
  }

  /** The type name of docs/plan-json.md: intervals by family, else the SQL type name. */
  static String typeName(RelDataType type) {
    SqlTypeName name = type.getSqlTypeName();
    if (name.getFamily() == SqlTypeFamily.INTERVAL_DAY_TIME) {
      return "INTERVAL_DAY_SECOND";
    }
    if (name.getFamily() == SqlTypeFamily.INTERVAL_YEAR_MONTH) {
      return "INTERVAL_YEAR_MONTH";
    }
    return name.getName();
  }

  private static JsonNode literalValue(RexLiteral lit) {
    if (lit.isNull()) {
      return F.nullNode();
    }
    SqlTypeName name = lit.getType().getSqlTypeName();
    switch (name) {
    case BOOLEAN:
      return F.booleanNode(Boolean.TRUE.equals(lit.getValueAs(Boolean.class)));
    case TINYINT:
    case SMALLINT:
    case INTEGER:
    case BIGINT:
      return F.numberNode(lit.getValueAs(Long.class));
    case DECIMAL:
      return F.numberNode(lit.getValueAs(java.math.BigDecimal.class));
    case FLOAT:
    case REAL:
    case DOUBLE:
      return F.numberNode(lit.getValueAs(Double.class));
    case CHAR:
    case VARCHAR:
      return F.textNode(lit.getValueAs(String.class));
    case DATE:
      return F.numberNode(lit.getValueAs(DateString.class).getMillisSinceEpoch());
    case TIME:
      return F.numberNode(lit.getValueAs(TimeString.class).getMillisOfDay());
    case TIMESTAMP:
      return F.numberNode(lit.getValueAs(TimestampString.class).getMillisSinceEpoch());
    case SYMBOL:
      return F.textNode(String.valueOf(lit.getValue()));
    case BINARY:
    case VARBINARY:
      return F.textNode(lit.getValueAs(org.apache.calcite.avatica.util.ByteString.class).toString());
    default:
      if (SqlTypeName.INTERVAL_TYPES.contains(name)) {
        return F.numberNode(lit.getValueAs(Long.class));
      }
      throw new UnsupportedOperationException("pycql cannot use a literal of type " + name
          + ": " + lit);
    }
  }
}
