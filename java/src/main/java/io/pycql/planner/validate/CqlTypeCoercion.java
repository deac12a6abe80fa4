package io.pycql.planner.validate;

import io.pycql.planner.CqlPlannerError;
import java.util.ArrayList;
import java.util.List;
import org.apache.calcite.rel.type.RelDataType;
import org.apache.calcite.rel.type.RelDataTypeFactory;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlCallBinding;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlLiteral;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.type.SqlTypeName;
import org.apache.calcite.sql.util.SqlBasicVisitor;
import org.apache.calcite.sql.type.SqlTypeFamily;
import org.apache.calcite.sql.type.SqlTypeUtil;
import org.apache.calcite.sql.validate.SqlValidator;
import org.apache.calcite.sql.validate.implicit.TypeCoercionImpl;

/**
 * Calcite's implicit type coercion, except between character strings and numbers.
 *
 * <p>Calcite would run {@code name > 5} as {@code CAST(name AS INTEGER) > 5} and
 * {@code k + name} as {@code k + CAST(name AS INTEGER)}: a cast that fails at run time on the
 * first name that is not a number. pycql refuses these when the statement is validated
 * ("Cannot apply '>' to arguments of type ..."), with the position of the expression; an
 * explicit {@code CAST} says what was meant. Every other coercion stays: numeric widening
 * (INTEGER, DECIMAL, DOUBLE), a string literal compared with a TIMESTAMP, DATE with TIMESTAMP,
 * numbers to strings where a string is expected (CASE and UNION branches, {@code ||}).
 */
public final class CqlTypeCoercion extends TypeCoercionImpl {
  public CqlTypeCoercion(RelDataTypeFactory typeFactory, SqlValidator validator) {
    super(typeFactory, validator);
  }

  /** True for a character string type against a numeric type (either way round). */
  static boolean characterVersusNumeric(RelDataType a, RelDataType b) {
    if (a == null || b == null) {
      return false;
    }
    return SqlTypeUtil.isCharacter(a) && SqlTypeUtil.isNumeric(b)
        || SqlTypeUtil.isNumeric(a) && SqlTypeUtil.isCharacter(b);
  }

  /**
   * Throws a validation error at the first comparison of a string with a number in a
   * validated statement: {@code name > 5}, {@code name = k}, {@code name BETWEEN 1 AND 2},
   * {@code name IN (1, 2)}, {@code k IN (SELECT name ...)}. Calcite's validator accepts them
   * (its type system compares CHARACTER with NUMERIC), and its converter casts the string to
   * a number, which fails at run time on the first string that is not one.
   */
  public static void checkComparisons(SqlNode validated, SqlValidator validator) {
    validated.accept(new SqlBasicVisitor<Void>() {
      @Override public Void visit(SqlCall call) {
        SqlKind kind = call.getKind();
        if (kind.belongsTo(SqlKind.BINARY_COMPARISON) || kind == SqlKind.BETWEEN
            || kind == SqlKind.IN || kind == SqlKind.NOT_IN
            || kind == SqlKind.SOME || kind == SqlKind.ALL) {
          List<RelDataType> types = new ArrayList<>();
          for (SqlNode operand : call.getOperandList()) {
            addTypes(operand, validator, types);
          }
          for (int i = 1; i < types.size(); i++) {
            if (characterVersusNumeric(types.get(0), types.get(i))) {
              throw CqlPlannerError.validate(call.getParserPosition(), "Cannot apply '"
                  + call.getOperator().getName() + "' to arguments of type "
                  + signature(call, types) + ": a string is not compared with a number "
                  + "(CAST one of them to the other's type)");
            }
          }
        }
        return super.visit(call);
      }
    });
  }

  private static void addTypes(SqlNode operand, SqlValidator validator,
      List<RelDataType> types) {
    if (operand == null || operand instanceof SqlLiteral
        && ((SqlLiteral) operand).getTypeName() == SqlTypeName.SYMBOL) {
      return;
    }
    if (operand instanceof SqlNodeList) {
      for (SqlNode n : (SqlNodeList) operand) {
        addTypes(n, validator, types);
      }
      return;
    }
    RelDataType t = validator.getValidatedNodeTypeIfKnown(operand);
    if (t == null) {
      return;
    }
    if (t.isStruct()) {
      if (t.getFieldCount() == 1) {
        types.add(t.getFieldList().get(0).getType());
      }
      return;
    }
    types.add(t);
  }

  private static String signature(SqlCall call, List<RelDataType> types) {
    StringBuilder b = new StringBuilder("'");
    for (int i = 0; i < types.size(); i++) {
      if (i > 0) {
        b.append(i == 1 ? " " + call.getOperator().getName() + " " : ", ");
      }
      b.append('<').append(types.get(i).getSqlTypeName().getName()).append('>');
    }
    return b.append("'").toString();
  }

  /** {@code '9' + 1}: no cast of the string to a number. */
  @Override protected boolean binaryArithmeticWithStrings(SqlCallBinding binding,
      RelDataType left, RelDataType right) {
    return false;
  }

  /** {@code name > 5}, {@code name BETWEEN 1 AND 2}, {@code name IN (1, 2)}: no common type. */
  @Override public RelDataType commonTypeForBinaryComparison(
      RelDataType type1, RelDataType type2) {
    if (characterVersusNumeric(type1, type2)) {
      return null;
    }
    return super.commonTypeForBinaryComparison(type1, type2);
  }

  /** {@code ABS(name)}: a string is not cast to a number where a function wants one. */
  @Override public RelDataType implicitCast(RelDataType in, SqlTypeFamily expected) {
    if (SqlTypeUtil.isCharacter(in)) {
      switch (expected) {
      case NUMERIC:
      case DECIMAL:
      case APPROXIMATE_NUMERIC:
      case EXACT_NUMERIC:
      case INTEGER:
        return null;
      default:
        break;
      }
    }
    return super.implicitCast(in, expected);
  }
}
