package web

import (
	"github.com/gofiber/fiber/v2"

	"orderdesk/modules/payments"
	"orderdesk/ports"
)

// btcpayWebhook receives BTCPay Server's store webhook: the raw body is verified
// against BTCPay-Sig before anything is read from it; a verified delivery is kept in
// the inbox and processed on the queue, so the answer is quick. A forged delivery is
// 401 and leaves no trace; a redelivery, an unknown event or invoice is 200.
func btcpayWebhook(p *payments.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		// Copy: Fiber reuses the request buffer once the handler returns, and the
		// inbox keeps the body.
		body := append([]byte(nil), c.Body()...)
		err := p.ReceiveWebhook(c.UserContext(), c.Get("BTCPay-Sig"), body)
		switch ports.ErrorCodeOf(err) {
		case "":
			return c.JSON(fiber.Map{"status": "accepted"})
		case ports.EUNAUTHORIZED:
			Logger(c.UserContext()).Warn("btcpay webhook refused: bad signature", "ip", c.IP())
			return c.Status(fiber.StatusUnauthorized).JSON(fiber.Map{"status": fiber.StatusUnauthorized, "error": "Signature does not verify."})
		case ports.EINVALID:
			return c.Status(fiber.StatusBadRequest).JSON(fiber.Map{"status": fiber.StatusBadRequest, "error": ports.ErrorMessageOf(err)})
		}
		return err
	}
}
