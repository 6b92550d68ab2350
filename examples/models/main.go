// Models: list the available models and look one up.
package main

import (
	"context"
	"fmt"
	"log"

	"github.com/cerebras-go/cerebras/client"
)

func main() {
	c, err := client.New()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()

	list, err := c.Models.List(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range list.Data {
		owner := "?"
		if m.OwnedBy != "" {
			owner = m.OwnedBy
		}
		fmt.Printf("model %-16s owned by %s\n", m.ID, owner)
	}
	if len(list.Data) > 0 {
		m, err := c.Models.Get(ctx, list.Data[0].ID)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("retrieved:", m.ID)
	}
}
