# CORRECT, written differently: keeps the schedule as 0-dim float64 tensors (no math module), builds
# the timesteps with a list comprehension, and writes the sampler as a while loop over t.
import torch


def ddim_timesteps(num_train_steps, num_inference_steps):
    k = num_train_steps // num_inference_steps
    return torch.tensor([i * k for i in reversed(range(num_inference_steps))], dtype=torch.long)




def ddim_step(model_output, t, prev_t, x_t, abar, eta=0.0, generator=None, prediction_type="epsilon"):
    a_t = abar[t].double()
    a_prev = abar[prev_t].double() if prev_t > -1 else torch.ones((), dtype=torch.float64)
    s, c = a_t.sqrt(), (1 - a_t).sqrt()
    if prediction_type == "v_prediction":
        x0, eps = s * x_t - c * model_output, s * model_output + c * x_t
    elif prediction_type == "epsilon":
        x0, eps = (x_t - c * model_output) / s, model_output
    else:
        raise ValueError(prediction_type)
    var = (1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev)
    sigma = eta * var.sqrt()
    x_prev = a_prev.sqrt() * x0 + (1 - a_prev - sigma * sigma).sqrt() * eps
    if eta != 0:
        x_prev = x_prev + sigma * torch.randn(x_t.shape, dtype=x_t.dtype, generator=generator)
    return x_prev.to(x_t.dtype), x0.to(x_t.dtype)


def ddim_sample(model, x_T, abar, num_inference_steps, eta=0.0, generator=None, prediction_type="epsilon"):
    k = len(abar) // num_inference_steps
    t, x = (num_inference_steps - 1) * k, x_T
    while t >= 0:
        x = ddim_step(model(x, t), t, t - k, x, abar, eta, generator, prediction_type)[0]
        t -= k
    return x
