# One flexmix fit of the softmax-gated multinomial-logistic mixture of experts (called by moe.bench).
#
# Usage: Rscript flexmix.R DATA.csv POSTERIOR.csv ITER_MAX TOLERANCE OUT_PREFIX
#
# DATA.csv has columns y (integer class 0..M-1) and x1..xd; POSTERIOR.csv holds the n x K
# starting posterior probabilities (no header). The model is the one moe fits: FLXMRmultinom
# experts and an FLXPmultinom concomitant (the softmax gate) on the same inputs, minprior = 0
# so that no component is silently dropped. Writes
#   OUT_PREFIX_trace.csv   iter, loglik, seconds  (every EM iteration, seconds since the call began)
#   OUT_PREFIX_coef.csv    block (gate|expert), component, class, column, value  (flexmix's
#                          parameterisation: gate component 1 and expert class 1 are the zero rows)
#   OUT_PREFIX_status.csv  status (ok|failed), message, iter, converged, loglik, seconds
# The caller re-evaluates the log-likelihood at the returned parameters itself.

suppressPackageStartupMessages(library(flexmix))

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 5) stop("usage: Rscript flexmix.R DATA.csv POSTERIOR.csv ITER_MAX TOLERANCE OUT_PREFIX")
data <- read.csv(args[1])
post <- as.matrix(read.csv(args[2], header = FALSE))
iter_max <- as.integer(args[3])
tolerance <- as.numeric(args[4])
out <- args[5]
data$y <- factor(data$y, levels = sort(unique(data$y)))
inputs <- setdiff(names(data), "y")
rhs <- paste(inputs, collapse = " + ")

# flexmix reports the log-likelihood of each iteration only through its printIter(); recording
# it there with a time stamp gives the trace without changing the algorithm.
trace <- data.frame(iter = integer(0), loglik = numeric(0), seconds = numeric(0))
t0 <- NULL
assignInNamespace("printIter", function(iter, logLik, label = "Log-likelihood") {
  trace[nrow(trace) + 1, ] <<- list(iter, logLik, (proc.time() - t0)[["elapsed"]])
}, ns = "flexmix")

write_status <- function(status, message, iter, converged, loglik, seconds) {
  write.csv(data.frame(status = status, message = message, iter = iter, converged = converged,
                       loglik = loglik, seconds = seconds),
            paste0(out, "_status.csv"), row.names = FALSE)
}

t0 <- proc.time()
fit <- tryCatch(
  flexmix(as.formula(paste("y ~", rhs)), data = data, k = ncol(post), cluster = post,
          model = FLXMRmultinom(), concomitant = FLXPmultinom(as.formula(paste("~", rhs))),
          control = list(minprior = 0, iter.max = iter_max, tolerance = tolerance, verbose = 1)),
  error = function(e) e)
seconds <- (proc.time() - t0)[["elapsed"]]
write.csv(trace, paste0(out, "_trace.csv"), row.names = FALSE)

if (inherits(fit, "error")) {
  write_status("failed", gsub("[\r\n]+", " ", conditionMessage(fit)), nrow(trace), FALSE, NA, seconds)
  quit(save = "no", status = 0)
}

p <- length(inputs) + 1
K <- fit@k
gate <- parameters(fit, which = "concomitant")  # p x K, column 1 is zero
rows <- list()
for (k in seq_len(K)) {
  rows[[length(rows) + 1]] <- data.frame(block = "gate", component = k, class = 0L,
                                         column = seq_len(p) - 1L, value = gate[, k])
  coef <- matrix(fit@components[[k]][[1]]@parameters$coef, ncol = p)  # (M - 1) x p, classes 2..M
  for (m in seq_len(nrow(coef))) {
    rows[[length(rows) + 1]] <- data.frame(block = "expert", component = k, class = m + 1L,
                                           column = seq_len(p) - 1L, value = coef[m, ])
  }
}
write.csv(do.call(rbind, rows), paste0(out, "_coef.csv"), row.names = FALSE)
write_status("ok", "", fit@iter, fit@converged, as.numeric(logLik(fit)), seconds)
