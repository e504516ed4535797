# CORRECT, written differently: summaries kept as (m, s, t) but merged via logaddexp-style log weights; RunningStats updated value by value (Welford), merge by Chan.
import math

import torch


def chunk_summary(logits):
    x = logits.double()
    keep = x > -math.inf
    m = torch.where(keep, x, torch.full_like(x, -math.inf)).amax(dim=1)
    shift = torch.nan_to_num(m, neginf=0.0)
    w = torch.exp(x - shift[:, None]).masked_fill(~keep, 0.0)
    return m, w.sum(1), (w * x.masked_fill(~keep, 0.0)).sum(1)


def merge_summaries(a, b):
    m = torch.maximum(a[0], b[0])
    out_s, out_t = torch.zeros_like(a[1]), torch.zeros_like(a[2])
    for m_i, s_i, t_i in (a, b):
        log_w = (m_i - torch.nan_to_num(m, neginf=0.0)).nan_to_num(nan=-math.inf)
        w = torch.exp(log_w)
        out_s = out_s + torch.where(torch.isfinite(m_i), s_i * w, torch.zeros_like(s_i))
        out_t = out_t + torch.where(torch.isfinite(m_i), t_i * w, torch.zeros_like(t_i))
    return m, out_s, out_t


def streaming_entropy(chunks):
    m, s, t = chunk_summary(chunks[0])
    for c in chunks[1:]:
        m, s, t = merge_summaries((m, s, t), chunk_summary(c))
    return (m + s.log()) - t / s


class RunningStats:
    def __init__(self):
        self.count, self.mean, self.m2 = 0, torch.zeros((), dtype=torch.float64), torch.zeros((), dtype=torch.float64)

    def update(self, values):
        for v in values.double().reshape(-1):
            self.count += 1
            d = v - self.mean
            self.mean = self.mean + d / self.count
            self.m2 = self.m2 + d * (v - self.mean)

    def merge(self, other):
        new = RunningStats()
        n = self.count + other.count
        if n:
            d = other.mean - self.mean
            new.count, new.mean = n, (self.count * self.mean + other.count * other.mean) / n
            new.m2 = self.m2 + other.m2 + d * d * (self.count * other.count / n)
        return new

    def variance(self, unbiased=True):
        n = self.count - int(unbiased)
        return self.m2 / n if n > 0 else torch.tensor(math.nan, dtype=torch.float64)
