# CORRECT, written differently: builds each row's D x D Jacobian dy_hat/dx explicitly (symmetric for
# LayerNorm: (I - 1/D - x_hat x_hat^T / D) / sigma) and applies it with einsum; torch.var(correction=0).
import torch


def layer_norm_backward(x, weight, grad_out, eps=1e-5):
    D = x.shape[-1]
    flat_x, flat_g = x.reshape(-1, D), grad_out.reshape(-1, D)
    sigma = torch.sqrt(torch.var(flat_x, dim=1, correction=0, keepdim=True) + eps)
    x_hat = (flat_x - flat_x.mean(1, keepdim=True)) / sigma
    eye = torch.eye(D, dtype=x.dtype)
    jac = (eye - 1.0 / D - torch.einsum("ni,nj->nij", x_hat, x_hat) / D) / sigma[:, :, None]
    dx = torch.einsum("nij,nj->ni", jac, flat_g * weight)
    return dx.reshape(x.shape), torch.einsum("nd,nd->d", flat_g, x_hat), flat_g.sum(0)


def rms_norm_backward(x, weight, grad_out, eps=1e-6):
    D = x.shape[-1]
    flat_x, flat_g = x.reshape(-1, D), grad_out.reshape(-1, D)
    r = torch.sqrt(flat_x.pow(2).sum(1, keepdim=True) / D + eps)
    x_hat = flat_x / r
    jac = (torch.eye(D, dtype=x.dtype) - torch.einsum("ni,nj->nij", x_hat, x_hat) / D) / r[:, :, None]
    dx = torch.einsum("nij,nj->ni", jac, flat_g * weight)
    return dx.reshape(x.shape), (flat_g * x_hat).sum(0)
