package io.pycql.planner.validate;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.calcite.rel.type.RelDataType;
import org.apache.calcite.sql.type.SqlTypeFamily;
import org.apache.calcite.sql.type.SqlTypeName;

/** SQL type names and column descriptions as docs/plan-json.md writes them. */
public final class Types {
  private Types() {
  }

  /** "INTEGER", "VARCHAR", "INTERVAL_DAY_SECOND", ... */
  public static String typeName(RelDataType type) {
    SqlTypeName n = type.getSqlTypeName();
    if (n.getFamily() == SqlTypeFamily.INTERVAL_DAY_TIME) {
      return "INTERVAL_DAY_SECOND";
    }
    if (n.getFamily() == SqlTypeFamily.INTERVAL_YEAR_MONTH) {
      return "INTERVAL_YEAR_MONTH";
    }
    return n.getName();
  }

  /** {"name": ..., "type": ..., "nullable": ..., "precision"?, "scale"?}. */
  public static Map<String, Object> column(String name, RelDataType type) {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("name", name);
    c.put("type", typeName(type));
    c.put("nullable", type.isNullable());
    SqlTypeName n = type.getSqlTypeName();
    if (n.allowsPrec() && type.getPrecision() != RelDataType.PRECISION_NOT_SPECIFIED
        && n.getFamily() != SqlTypeFamily.INTERVAL_DAY_TIME
        && n.getFamily() != SqlTypeFamily.INTERVAL_YEAR_MONTH) {
      c.put("precision", type.getPrecision());
    }
    if (n.allowsScale() && type.getScale() != RelDataType.SCALE_NOT_SPECIFIED) {
      c.put("scale", type.getScale());
    }
    return c;
  }
}
