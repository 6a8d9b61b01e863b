//! Forward passes of a real quantized transformer (feature `forward`): a
//! BERT-family checkpoint run by candle on the CPU with chosen blocks'
//! weights quantized ([`Bert`]), and the calibration and validation of the
//! output-distortion approximation against it ([`validate`]).

mod bert;
mod validate;

pub use bert::{Bert, ForwardError, Inputs, QuantizedBlock, Setting};
pub use validate::{
    masked_mae, pooled_cosine, random_tokens, spearman, validate, Design, Row, Score, Set, Validation, FORMS,
};
