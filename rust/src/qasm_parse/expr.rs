//! Parameter expressions: numbers, constants, `+ - * / **`, parentheses and a few functions.

use super::lex::{Cursor, Tok};
use std::f64::consts::{E, PI, TAU};

/// Evaluates a parameter expression; the result must be a finite number.
pub(super) fn expression(cur: &mut Cursor<'_>) -> Result<f64, String> {
    let value = sum(cur)?;
    if value.is_finite() {
        Ok(value)
    } else {
        Err(format!("parameter expression evaluates to {value}"))
    }
}

fn sum(cur: &mut Cursor<'_>) -> Result<f64, String> {
    let mut value = product(cur)?;
    loop {
        if cur.eat(&Tok::Sym('+')) {
            value += product(cur)?;
        } else if cur.eat(&Tok::Sym('-')) {
            value -= product(cur)?;
        } else {
            return Ok(value);
        }
    }
}

fn product(cur: &mut Cursor<'_>) -> Result<f64, String> {
    let mut value = unary(cur)?;
    loop {
        if cur.eat(&Tok::Sym('*')) {
            value *= unary(cur)?;
        } else if cur.eat(&Tok::Sym('/')) {
            value /= unary(cur)?;
        } else {
            return Ok(value);
        }
    }
}

/// Deepest nesting of parentheses, signs and powers; bounds the recursion (and the stack).
const MAX_DEPTH: usize = 64;

fn unary(cur: &mut Cursor<'_>) -> Result<f64, String> {
    cur.depth += 1;
    let value = if cur.depth > MAX_DEPTH {
        Err(format!("expression nested deeper than {MAX_DEPTH} levels"))
    } else {
        signed(cur)
    };
    cur.depth -= 1;
    value
}

/// Unary signs bind looser than `**`, so `-2**2` is -4 as in OpenQASM 3.
fn signed(cur: &mut Cursor<'_>) -> Result<f64, String> {
    if cur.eat(&Tok::Sym('-')) {
        Ok(-unary(cur)?)
    } else if cur.eat(&Tok::Sym('+')) {
        unary(cur)
    } else {
        let base = atom(cur)?;
        if cur.eat(&Tok::Pow) {
            Ok(base.powf(unary(cur)?))
        } else {
            Ok(base)
        }
    }
}

fn atom(cur: &mut Cursor<'_>) -> Result<f64, String> {
    match cur.next() {
        Some(Tok::Num { value, .. }) => Ok(*value),
        Some(Tok::Sym('(')) => {
            let value = sum(cur)?;
            cur.expect(&Tok::Sym(')'), "')' in expression")?;
            Ok(value)
        }
        Some(Tok::Ident(name)) if cur.peek() == Some(&Tok::Sym('(')) => {
            cur.next();
            let arg = sum(cur)?;
            cur.expect(&Tok::Sym(')'), "')' after function argument")?;
            apply_function(name, arg)
        }
        Some(Tok::Ident(name)) => constant(name),
        _ => Err("expected a number, constant, function call or '(' in expression".to_string()),
    }
}

pub(super) fn constant(name: &str) -> Result<f64, String> {
    match name {
        "pi" | "π" => Ok(PI),
        "tau" | "τ" => Ok(TAU),
        "euler" | "ℇ" => Ok(E),
        _ => Err(format!("unknown identifier '{name}' in expression")),
    }
}

fn apply_function(name: &str, x: f64) -> Result<f64, String> {
    Ok(match name {
        "sin" => x.sin(),
        "cos" => x.cos(),
        "tan" => x.tan(),
        "arcsin" => x.asin(),
        "arccos" => x.acos(),
        "arctan" => x.atan(),
        "exp" => x.exp(),
        "ln" => x.ln(),
        "sqrt" => x.sqrt(),
        _ => return Err(format!("unknown function '{name}' in expression")),
    })
}
